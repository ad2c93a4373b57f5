/*
 * SHA-crypt: every test vector of Drepper's specification for $5$ and $6$,
 * a few edge cases checked against glibc's crypt(3), the setting parser,
 * and hashes that "openssl passwd" makes while the test runs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "auth/shacrypt.h"

struct vector {
	const char *setting;
	const char *password;
	const char *want;
};

#define LONG_TEXT \
	"a very much longer text to encrypt.  This one even stretches over " \
	"morethan one line."
#define SHORT_SALT "we have a short salt string but not a short password"

/* From the specification: rounds=10 is raised to 1000, salts cut to 16. */
static const struct vector spec[] = {
	{"$5$saltstring", "Hello world!",
		"$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5"},
	{"$5$rounds=10000$saltstringsaltstring", "Hello world!",
		"$5$rounds=10000$saltstringsaltst$3xv.VbSHBb41AL9AvLeujZkZRBAwq"
		"FMz2.opqey6IcA"},
	{"$5$rounds=5000$toolongsaltstring", "This is just a test",
		"$5$rounds=5000$toolongsaltstrin$Un/5jzAHMgOGZ5.mWJpuVolil07guH"
		"PvOW8mGRcvxa5"},
	{"$5$rounds=1400$anotherlongsaltstring", LONG_TEXT,
		"$5$rounds=1400$anotherlongsalts$Rx.j8H.h8HjEDGomFU8bDkXm3XIUnz"
		"yxf12oP84Bnq1"},
	{"$5$rounds=77777$short", SHORT_SALT,
		"$5$rounds=77777$short$JiO1O3ZpDAxGJeaDIuqCoEFysAe1mZNJRs3pw0KQ"
		"Rd/"},
	{"$5$rounds=123456$asaltof16chars..", "a short string",
		"$5$rounds=123456$asaltof16chars..$gP3VQ/6X7UUEW3HkBn2w1/Ptq2jx"
		"PyzV/cZKmF/wJvD"},
	{"$5$rounds=10$roundstoolow", "the minimum number is still observed",
		"$5$rounds=1000$roundstoolow$yfvwcWrQ8l/K0DAWyuPMDNHpIVlTQebY9l"
		"/gL972bIC"},
	{"$6$saltstring", "Hello world!",
		"$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFN"
		"jnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1"},
	{"$6$rounds=10000$saltstringsaltstring", "Hello world!",
		"$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oe"
		"qh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v."},
	{"$6$rounds=5000$toolongsaltstring", "This is just a test",
		"$6$rounds=5000$toolongsaltstrin$lQ8jolhgVRVhY4b5pZKaysCLi0QBxG"
		"oNeKQzQ3glMhwllF7oGDZxUhx1yxdYcz/e1JSbq3y6JMxxl8audkUEm0"},
	{"$6$rounds=1400$anotherlongsaltstring", LONG_TEXT,
		"$6$rounds=1400$anotherlongsalts$POfYwTEok97VWcjxIiSOjiykti.o/p"
		"Qs.wPvMxQ6Fm7I6IoYN3CmLs66x9t0oSwbtEW7o7UmJEiDwGqd8p4ur1"},
	{"$6$rounds=77777$short", SHORT_SALT,
		"$6$rounds=77777$short$WuQyW2YR.hBNpjjRhpYD/ifIw05xdfeEyQoMxIXb"
		"kvr0gge1a1x3yRULJ5CCaUeOxFmtlcGZelFl5CxtgfiAc0"},
	{"$6$rounds=123456$asaltof16chars..", "a short string",
		"$6$rounds=123456$asaltof16chars..$BtCwjqMJGx5hrJhZywWvt0RLE8uZ"
		"4oPwcelCjmw2kSYu.Ec6ycULevoBK25fs2xXgMNrCzIMVcgEJAstJeonj1"},
	{"$6$rounds=10$roundstoolow", "the minimum number is still observed",
		"$6$rounds=1000$roundstoolow$kUMsbe306n21p9R.FRkW3IGn.S9NPN0x50"
		"YhH1xhLsPuWGsUSklZt58jaTfF4ZEQpyUNGc0dqbpBYYBaHHrsX."},
};

/* Edge cases, the answers taken from glibc's crypt(3). */
static const struct vector edges[] = {
	/* An empty salt, and a whole stored hash given as the setting. */
	{"$6$", "Hello world!",
		"$6$$.SKR9BCFmNlzTpsFbxLHKPVAMUdqxN8.85WISsmC.fRIPfZ78cePl/wQJc"
		"KzjcsDe8rRtdaVxJHS/E1LzWy3./"},
	{"$5$rounds=1000$saltsalt$eKLZU9t9OoPWrqOQsoTIKG0aYkZ5rGOoOQhiIvoS"
	 "WX2",
		"secret",
		"$5$rounds=1000$saltsalt$"
		"eKLZU9t9OoPWrqOQsoTIKG0aYkZ5rGOoOQhiIvo"
		"SWX2"},
	/* An empty password. */
	{"$6$rounds=1000$empty", "",
		"$6$rounds=1000$empty$mD/mfMVeNHBUgTII19Wa60uGXYFiKQekh3g31uXM."
		"1DkGrKMw1ICxo7N9UEq9xthpeZV2NXWk/C7RFot9C.JR."},
};

static void
run(const struct vector *v, size_t n)
{
	char out[SHACRYPT_OUT_MAX];
	size_t i;

	for (i = 0; i < n; i++) {
		int rc = shacrypt(v[i].password, strlen(v[i].password),
			v[i].setting, strlen(v[i].setting), out, sizeof(out));

		if (rc < 0 || strcmp(out, v[i].want) != 0)
			fail_msg("%s: got %s", v[i].setting, out);
		assert_int_equal(rc, strlen(v[i].want));
	}
}

static void
test_spec_vectors(void **state)
{
	(void)state;
	run(spec, sizeof(spec) / sizeof(spec[0]));
}

static void
test_edge_vectors(void **state)
{
	(void)state;
	run(edges, sizeof(edges) / sizeof(edges[0]));
}

/* A password longer than several digests: the repeated sequences. */
static void
test_long_password(void **state)
{
	static const char want[] = "$5$rounds=1000$long$1mnR5SmmHK3zfo9/7kt1KL"
				   "lXg1.kWeY.UbNn4SE6uI5";
	char pw[256], out[SHACRYPT_OUT_MAX];

	(void)state;
	memset(pw, 'x', sizeof(pw));
	assert_int_equal(shacrypt(pw, sizeof(pw), "$5$rounds=1000$long", 19,
				 out, sizeof(out)),
		strlen(want));
	assert_string_equal(out, want);
}

/* Run v's hash as a job in pieces of piece rounds. */
static void
run_in_pieces(const struct vector *v, unsigned long piece)
{
	struct shacrypt_setting st;
	struct shacrypt_job j, zero;
	char got[SHACRYPT_DIGEST_MAX];
	size_t end, dlen, wantlen = strlen(v->want);
	unsigned long calls = 0;

	assert_int_equal(
		shacrypt_parse(v->setting, strlen(v->setting), &st, &end),
		SHACRYPT_OK);
	dlen = shacrypt_digest_len(st.scheme);
	shacrypt_job_start(&j, &st, v->password, strlen(v->password));
	do
		calls++;
	while (!shacrypt_job_step(&j, piece));
	/* No round more or fewer than asked: done on the last piece. */
	assert_int_equal(calls, (st.rounds + piece - 1) / piece);
	assert_int_equal(shacrypt_job_step(&j, piece), 1);
	assert_int_equal(shacrypt_job_finish(&j, got), dlen);
	assert_memory_equal(got, v->want + wantlen - dlen, dlen);
	memset(&zero, 0, sizeof(zero));
	assert_memory_equal(&j, &zero, sizeof(j));
}

/*
 * Pieces of any size give what one go gives: the specification's $5$ and
 * $6$ vectors of 1000 and 5000 rounds.
 */
static void
test_job_pieces(void **state)
{
	static const unsigned long pieces[] = {1, 7, 1000, 5000, 100000};
	struct shacrypt_setting st;
	size_t i, k, end, n = 0;

	(void)state;
	for (i = 0; i < sizeof(spec) / sizeof(spec[0]); i++) {
		shacrypt_parse(
			spec[i].setting, strlen(spec[i].setting), &st, &end);
		if (st.rounds != 1000 && st.rounds != 5000)
			continue;
		for (k = 0; k < sizeof(pieces) / sizeof(pieces[0]); k++)
			run_in_pieces(&spec[i], pieces[k]);
		n++;
	}
	assert_int_equal(n, 6);
}

/*
 * The job keeps no pointer to the setting or the password: both may
 * change before the rounds run.
 */
static void
test_job_copies(void **state)
{
	char setting[] = "$6$rounds=1000$roundstoolow";
	char pw[] = "the minimum number is still observed";
	const char *want = spec[13].want;
	struct shacrypt_setting st;
	struct shacrypt_job j;
	char got[SHACRYPT_DIGEST_MAX];
	size_t end;

	(void)state;
	assert_int_equal(shacrypt_parse(setting, strlen(setting), &st, &end),
		SHACRYPT_OK);
	shacrypt_job_start(&j, &st, pw, strlen(pw));
	memset(setting, '$', sizeof(setting) - 1);
	memset(pw, 'x', sizeof(pw) - 1);
	memset(&st, 0, sizeof(st));
	while (!shacrypt_job_step(&j, 300))
		;
	assert_int_equal(shacrypt_job_finish(&j, got), 86);
	assert_memory_equal(got, want + strlen(want) - 86, 86);

	/* A wiped job has no rounds left. */
	shacrypt_parse(want, strlen(want), &st, &end);
	shacrypt_job_start(&j, &st, pw, 3);
	assert_int_equal(shacrypt_job_step(&j, 0), 0);
	shacrypt_job_wipe(&j);
	assert_int_equal(shacrypt_job_step(&j, 0), 1);
}

struct parse_case {
	const char *s;
	int rc;
	int scheme;
	unsigned long rounds;
	int given;
	const char *salt;
	size_t end;
};

static const struct parse_case parses[] = {
	{"$5$abc", SHACRYPT_OK, 5, 5000, 0, "abc", 6},
	{"$6$abc$xyz", SHACRYPT_OK, 6, 5000, 0, "abc", 6},
	{"$6$rounds=1000$s$", SHACRYPT_OK, 6, 1000, 1, "s", 16},
	{"$6$rounds=999$s", SHACRYPT_OK, 6, 1000, 1, "s", 15},
	{"$6$rounds=0$s", SHACRYPT_OK, 6, 1000, 1, "s", 13},
	{"$5$rounds=999999999$s", SHACRYPT_OK, 5, 999999999, 1, "s", 21},
	{"$5$rounds=1000000000$s", SHACRYPT_OK, 5, 999999999, 1, "s", 22},
	{"$5$rounds=99999999999999999999999$s", SHACRYPT_OK, 5, 999999999, 1,
		"s", 35},
	{"$5$0123456789abcdefXYZ$", SHACRYPT_OK, 5, 5000, 0, "0123456789abcdef",
		19},
	{"$5$", SHACRYPT_OK, 5, 5000, 0, "", 3},
	{"$5$$", SHACRYPT_OK, 5, 5000, 0, "", 3},
	{"$5$round=9$s", SHACRYPT_OK, 5, 5000, 0, "round=9", 10},
	{"$5$rounds=$s", SHACRYPT_ERR_ROUNDS, 0, 0, 0, NULL, 0},
	{"$5$rounds=12", SHACRYPT_ERR_ROUNDS, 0, 0, 0, NULL, 0},
	{"$5$rounds=-1$s", SHACRYPT_ERR_ROUNDS, 0, 0, 0, NULL, 0},
	{"$5$rounds=1x$s", SHACRYPT_ERR_ROUNDS, 0, 0, 0, NULL, 0},
	{"$1$abc$def", SHACRYPT_ERR_SCHEME, 0, 0, 0, NULL, 0},
	{"$2b$10$abc", SHACRYPT_ERR_SCHEME, 0, 0, 0, NULL, 0},
	{"$y$j9T$abc", SHACRYPT_ERR_SCHEME, 0, 0, 0, NULL, 0},
	{"$56$abc", SHACRYPT_ERR_SCHEME, 0, 0, 0, NULL, 0},
	{"abDEF0123456.", SHACRYPT_ERR_FORM, 0, 0, 0, NULL, 0},
	{"$5", SHACRYPT_ERR_FORM, 0, 0, 0, NULL, 0},
	{"", SHACRYPT_ERR_FORM, 0, 0, 0, NULL, 0},
};

static void
test_parse(void **state)
{
	struct shacrypt_setting st;
	size_t i, end;

	(void)state;
	for (i = 0; i < sizeof(parses) / sizeof(parses[0]); i++) {
		const struct parse_case *p = &parses[i];
		int rc = shacrypt_parse(p->s, strlen(p->s), &st, &end);

		if (rc != p->rc)
			fail_msg("'%s': %d, want %d", p->s, rc, p->rc);
		if (rc != SHACRYPT_OK)
			continue;
		assert_int_equal(st.scheme, p->scheme);
		assert_int_equal(st.rounds, p->rounds);
		assert_int_equal(st.rounds_given, p->given);
		assert_int_equal(st.saltlen, strlen(p->salt));
		assert_memory_equal(st.salt, p->salt, st.saltlen);
		assert_int_equal(end, p->end);
	}
	assert_int_equal(shacrypt_digest_len(5), 43);
	assert_int_equal(shacrypt_digest_len(6), 86);
}

static void
test_small_output(void **state)
{
	char out[SHACRYPT_OUT_MAX];

	(void)state;
	/* "$5$salt$" and 43 characters and the NUL need 52 bytes. */
	assert_int_equal(shacrypt("pw", 2, "$5$salt", 7, out, 52), 51);
	assert_int_equal(shacrypt("pw", 2, "$5$salt", 7, out, 51), -1);
	assert_int_equal(shacrypt("pw", 2, "$1$salt", 7, out, 52), -1);
	assert_int_equal(shacrypt("pw", 2, "$5$salt", 7, out, 0), -1);
}

/* What "openssl passwd -5|-6 -salt SALT PW" prints; 0 if it ran. */
static int
openssl_passwd(
	int scheme, const char *salt, const char *pw, char *out, size_t size)
{
	char cmd[256];
	FILE *f;
	int ok;

	snprintf(cmd, sizeof(cmd), "openssl passwd -%d -salt '%s' '%s'", scheme,
		salt, pw);
	f = popen(cmd, "r");
	if (f == NULL)
		return -1;
	ok = fgets(out, (int)size, f) != NULL;
	if (pclose(f) != 0 || !ok)
		return -1;
	out[strcspn(out, "\n")] = '\0';
	return 0;
}

static void
test_openssl(void **state)
{
	static const char *const pws[] = {"pass word", "x",
		"0123456789012345678901234567890123456789012345678901234567890"
		"1234567890123456789",
		"\xc3\xa9t\xc3\xa9"};
	char want[SHACRYPT_OUT_MAX + 8], got[SHACRYPT_OUT_MAX];
	char setting[32];
	size_t i;
	int scheme;

	(void)state;
	for (scheme = 5; scheme <= 6; scheme++) {
		for (i = 0; i < sizeof(pws) / sizeof(pws[0]); i++) {
			if (openssl_passwd(scheme, "Ab/9.xyz", pws[i], want,
				    sizeof(want)) != 0)
				skip();
			snprintf(setting, sizeof(setting), "$%d$Ab/9.xyz",
				scheme);
			assert_true(
				shacrypt(pws[i], strlen(pws[i]), setting,
					strlen(setting), got, sizeof(got)) > 0);
			assert_string_equal(got, want);
		}
	}
}

/* Not a test of speed: prints the cost of one login, for the record. */
static void
test_timing(void **state)
{
	char out[SHACRYPT_OUT_MAX];
	struct timespec a, b;
	int i;

	(void)state;
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (i = 0; i < 10; i++)
		shacrypt("password", 8, "$6$0123456789abcdef", 19, out,
			sizeof(out));
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("# one $6$ 5000-round hash: %.2f ms\n",
		((double)(b.tv_sec - a.tv_sec) * 1e3 +
			(double)(b.tv_nsec - a.tv_nsec) / 1e6) /
			10);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spec_vectors),
		cmocka_unit_test(test_edge_vectors),
		cmocka_unit_test(test_long_password),
		cmocka_unit_test(test_job_pieces),
		cmocka_unit_test(test_job_copies),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_small_output),
		cmocka_unit_test(test_openssl),
		cmocka_unit_test(test_timing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
