/*
 * The users file: known answers for good and bad lines, authentication,
 * sender grants, the file's bounds, and a file whose hash "openssl
 * passwd -5" makes while the test runs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "auth/users.h"
#include "testfile.h"

#define NAME "t.users"

/* "secret", "hunter2" and 256 times "x", at 1000 rounds to stay quick. */
#define H5 "$5$rounds=1000$saltsalt$eKLZU9t9OoPWrqOQsoTIKG0aYkZ5rGOoOQhiIvoSWX2"
#define H6 \
	"$6$rounds=1000$pepper$ZCYznKQBy6ZtcxC5nnW8pZtBxU.SqirH.n/K4hbzjIvr" \
	"uMS0UHQ29O6kn3zxs2MfjWPxs0qjhwfd6fgK6jjUM0"
#define HL "$5$rounds=1000$long$1mnR5SmmHK3zfo9/7kt1KLlXg1.kWeY.UbNn4SE6uI5"
#define D43 "eKLZU9t9OoPWrqOQsoTIKG0aYkZ5rGOoOQhiIvoSWX2"

static struct users *
parse(const char *text, char *err)
{
	struct users *u = NULL;

	if (users_parse(&u, NAME, text, strlen(text), err, USERS_ERROR_MAX) !=
		0)
		return NULL;
	assert_non_null(u);
	return u;
}

static const char *const goods[] = {
	"", "# only a comment\n\n   \n\t# indented comment\n",
	"alice:" H5 ":alice@example.org", "alice:" H5 ":alice@example.org\r\n",
	"a:" H5 ":*@example.org", "Alice.B-C_d+e@example.org:" H5 ":a@b.c",
	"alice:" H6 ":alice@example.org, bob@example.org ,\t*@x.example ",
	"alice:" H5 ":a.b!#$%&'*+-/=?^_`{|}~@example.org",
	"alice:$5$rounds=10$s$" D43 ":a@b",
	"alice:$5$rounds=500000$s$" D43 ":a@b", "alice:$5$$" D43 ":a@b",
	"alice:$5$0123456789abcdef$" D43 ":a@b",
	"alice:" H5 ":a@b\nbob:" H6 ":b@b\ncarol:" H5 ":c@b\n",
	"\xef\xbb\xbf"
	"alice:" H5 ":a@b\n", /* a UTF-8 editor's BOM */
};

static void
test_good_lines(void **state)
{
	char err[USERS_ERROR_MAX];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(goods) / sizeof(goods[0]); i++) {
		struct users *u = parse(goods[i], err);

		if (u == NULL)
			fail_msg("'%s': %s", goods[i], err);
		users_free(u);
	}
}

struct bad {
	const char *text;
	const char *err;
};

static const struct bad bads[] = {
	{"alice", NAME ":1: want NAME:HASH:SENDERS"},
	{"alice:" H5, NAME ":1: want NAME:HASH:SENDERS"},
	{"# c\n\nalice::",
		NAME ":3: bad hash form: want $5$... or $6$... (DES hashes and "
		     "plain passwords are refused)"},
	{"alice:" H5 ":a@b # not a comment",
		NAME ":1: bad sender 'a@b # not a comment': want local@domain "
		     "or *@domain"},
	{":" H5 ":a@b",
		NAME ":1: bad user name '': want 1 to 64 letters, digits or "
		     "._@+-"},
	{" alice:" H5 ":a@b",
		NAME ":1: bad user name ' alice': want 1 to 64 letters, "
		     "digits or ._@+-"},
	{"al ice:" H5 ":a@b",
		NAME ":1: bad user name 'al ice': want 1 to 64 letters, "
		     "digits or ._@+-"},
	{"alice/:" H5 ":a@b",
		NAME ":1: bad user name 'alice/': want 1 to 64 letters, "
		     "digits or ._@+-"},
	{"\xc3\xa9:" H5 ":a@b",
		NAME ":1: bad user name '\xc3\xa9': want 1 to 64 letters, "
		     "digits or ._@+-"},
	{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	 ":" H5 ":a@b",
		NAME
		":1: bad user name 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		"a': want 1 to 64 letters, digits or ._@+-"},
	{"alice:$1$salt$abcdefghijklmnopqrstuv:a@b",
		NAME ":1: unknown hash scheme '$1$': MD5 is too weak; want $5$ "
		     "or $6$ (SHA-crypt)"},
	{"alice:$y$j9T$abc$def:a@b",
		NAME ":1: unknown hash scheme '$y$': want $5$ or $6$ "
		     "(SHA-crypt, as 'mkpasswd -m sha-512' makes)"},
	{"alice:$2b$10$abcdefghijklmnopqrstuv:a@b",
		NAME ":1: unknown hash scheme '$2b$': want $5$ or $6$ "
		     "(SHA-crypt, as 'mkpasswd -m sha-512' makes)"},
	{"alice:abDEF0123456.:a@b",
		NAME ":1: bad hash form: want $5$... or $6$... (DES hashes and "
		     "plain passwords are refused)"},
	{"alice::a@b",
		NAME ":1: bad hash form: want $5$... or $6$... (DES hashes and "
		     "plain passwords are refused)"},
	{"alice:secret:a@b",
		NAME ":1: bad hash form: want $5$... or $6$... (DES hashes and "
		     "plain passwords are refused)"},
	{"alice:$5$rounds=x$s$" D43 ":a@b",
		NAME ":1: bad hash form: 'rounds=' wants a number and '$'"},
	{"alice:$5$rounds=500001$s$" D43 ":a@b",
		NAME ":1: rounds=500001 is over 500000: one login would stall "
		     "every session while it is hashed"},
	{"alice:$5$0123456789abcdefg$" D43 ":a@b",
		NAME ":1: bad hash form: salt longer than 16 characters"},
	{"alice:$5$salt:a@b",
		NAME ":1: bad hash form: want 43 characters of [./0-9A-Za-z] "
		     "after the salt"},
	{"alice:$5$salt$:a@b",
		NAME ":1: bad hash form: want 43 characters of [./0-9A-Za-z] "
		     "after the salt"},
	{"alice:$5$salt$" D43 "x:a@b",
		NAME ":1: bad hash form: want 43 characters of [./0-9A-Za-z] "
		     "after the salt"},
	{"alice:$5$salt$" D43 "$:a@b",
		NAME ":1: bad hash form: want 43 characters of [./0-9A-Za-z] "
		     "after the salt"},
	{"alice:$6$salt$" D43 ":a@b",
		NAME ":1: bad hash form: want 86 characters of [./0-9A-Za-z] "
		     "after the salt"},
	{"alice:" H5 ":", NAME ":1: no senders"},
	{"alice:" H5 ":  \t", NAME ":1: no senders"},
	{"alice:" H5 ":a@b,", NAME ":1: empty sender in the list"},
	{"alice:" H5 ":,a@b", NAME ":1: empty sender in the list"},
	{"alice:" H5 ":a@b, ,c@d", NAME ":1: empty sender in the list"},
	{"alice:" H5 ":alice",
		NAME ":1: bad sender 'alice': want local@domain or *@domain"},
	{"alice:" H5 ":@example.org",
		NAME ":1: bad sender '@example.org': want local@domain or "
		     "*@domain"},
	{"alice:" H5 ":a@",
		NAME ":1: bad sender 'a@': want local@domain or *@domain"},
	{"alice:" H5 ":a b@c",
		NAME ":1: bad sender 'a b@c': want local@domain or *@domain"},
	{"alice:" H5 ":a@b:c",
		NAME ":1: bad sender 'a@b:c': want local@domain or *@domain"},
	{"alice:" H5 ":.a@b",
		NAME ":1: bad sender '.a@b': want local@domain or *@domain"},
	{"alice:" H5 ":a..b@c",
		NAME ":1: bad sender 'a..b@c': want local@domain or *@domain"},
	{"alice:" H5 ":\"a\"@b",
		NAME ":1: bad sender '\"a\"@b': want local@domain or "
		     "*@domain"},
	{"alice:" H5 ":a@-b.c",
		NAME ":1: bad sender 'a@-b.c': want local@domain or *@domain"},
	{"alice:" H5 ":a@b-.c",
		NAME ":1: bad sender 'a@b-.c': want local@domain or *@domain"},
	{"alice:" H5 ":a@b..c",
		NAME ":1: bad sender 'a@b..c': want local@domain or *@domain"},
	{"alice:" H5 ":a@b.c.",
		NAME ":1: bad sender 'a@b.c.': want local@domain or *@domain"},
	{"alice:" H5 ":a@b_c",
		NAME ":1: bad sender 'a@b_c': want local@domain or *@domain"},
	{"alice:" H5 ":a@[192.0.2.1]",
		NAME ":1: bad sender 'a@[192.0.2.1]': want local@domain or "
		     "*@domain"},
	{"alice:" H5 ":*@*.example",
		NAME ":1: bad sender '*@*.example': want local@domain or "
		     "*@domain"},
	{"alice:" H5
	 ":aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	 "aaaaaaaa@b",
		NAME ":1: bad sender 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		     "': want local@domain or *@domain"},
	{"alice:" H5 ":a@b\nbob:" H5 ":b@b\nalice:" H6 ":c@d\n",
		NAME ":3: duplicate user 'alice' (also on line 1)"},
	{"b:" H5 ":a@b\na:" H5 ":b@b\nb:" H5 ":c@d\na:" H5 ":c@d\n",
		NAME ":3: duplicate user 'b' (also on line 1)"},
	{"alice:" H5 ":a@b\nAlice:" H5 ":a@b\nbob:" H5 ":a@b\nbob:" H5 ":a@b\n",
		NAME ":4: duplicate user 'bob' (also on line 3)"},
	{"alice:" H5 ":a@b\x01", NAME ":1: unexpected control byte 0x01"},
	{"# ok\nalice:" H5 ":a@b\r\r\n",
		NAME ":2: unexpected control byte 0x0d"},
	{"# \x7f", NAME ":1: unexpected control byte 0x7f"},
	{"\xef\xbb\xbf\xef\xbb\xbf# c", NAME ":1: want NAME:HASH:SENDERS"},
};

static void
test_bad_lines(void **state)
{
	char err[USERS_ERROR_MAX];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		struct users *u = parse(bads[i].text, err);

		if (u != NULL)
			fail_msg("accepted '%s'", bads[i].text);
		if (strcmp(err, bads[i].err) != 0)
			fail_msg("'%s': got \"%s\", want \"%s\"", bads[i].text,
				err, bads[i].err);
	}
}

static void
test_nul_byte(void **state)
{
	static const char text[] = "alice:" H5 ":a@b\0\n";
	char err[USERS_ERROR_MAX];
	struct users *u = NULL;

	(void)state;
	assert_int_equal(
		users_parse(&u, NAME, text, sizeof(text) - 1, err, sizeof(err)),
		-1);
	assert_null(u);
	assert_string_equal(err, NAME ":1: unexpected control byte 0x00");
}

static const char users_text[] =
	"# the household\n"
	"alice:" H5 ":alice@example.org,*@Alice.Example\n"
	"bob:" H6 ":Bob.Smith@EXAMPLE.org\n"
	"long:" HL ":l@example.org\n";

static void
test_authenticate(void **state)
{
	char err[USERS_ERROR_MAX], pw[257];
	const struct user *a;
	struct users *u;

	(void)state;
	u = parse(users_text, err);
	assert_non_null(u);
	assert_int_equal(users_count(u), 3);

	a = users_authenticate(u, "alice", 5, "secret", 6);
	assert_non_null(a);
	assert_string_equal(user_name(a), "alice");
	a = users_authenticate(u, "bob", 3, "hunter2", 7);
	assert_non_null(a);
	assert_string_equal(user_name(a), "bob");

	assert_null(users_authenticate(u, "alice", 5, "Secret", 6));
	assert_null(users_authenticate(u, "alice", 5, "secret ", 7));
	assert_null(users_authenticate(u, "alice", 5, "secre", 5));
	assert_null(users_authenticate(u, "alice", 5, "", 0));
	assert_null(users_authenticate(u, "alice", 5, "hunter2", 7));
	assert_null(users_authenticate(u, "Alice", 5, "secret", 6));
	assert_null(users_authenticate(u, "alic", 4, "secret", 6));
	assert_null(users_authenticate(u, "alicex", 6, "secret", 6));
	assert_null(users_authenticate(u, "alice", 4, "secret", 6));
	assert_null(users_authenticate(u, "carol", 5, "secret", 6));
	assert_null(users_authenticate(u, "", 0, "secret", 6));
	assert_null(users_authenticate(NULL, "alice", 5, "secret", 6));

	/* 256 bytes are tried; 257 are refused, the hash notwithstanding. */
	memset(pw, 'x', sizeof(pw));
	assert_non_null(users_authenticate(u, "long", 4, pw, 256));
	assert_null(users_authenticate(u, "long", 4, pw, 257));
	users_free(u);
	users_free(NULL);
}

/*
 * users_check in pieces of piece rounds, with copies of name and pw that
 * are spoilt once it has started. *steps gets the calls it took.
 */
static const struct user *
check(const struct users *u, const char *name, const char *pw, size_t pwlen,
	unsigned long piece, unsigned long *steps)
{
	char n[USERS_NAME_MAX + 2], p[300];
	struct users_check c;
	size_t namelen = strlen(name);

	assert_true(namelen <= sizeof(n) && pwlen <= sizeof(p));
	memcpy(n, name, namelen);
	memcpy(p, pw, pwlen);
	users_check_start(u, n, namelen, p, pwlen, &c);
	memset(n, 'a', sizeof(n));
	memset(p, 'x', sizeof(p));
	*steps = 1;
	while (!users_check_step(&c, piece))
		++*steps;
	return users_check_result(&c);
}

struct login {
	const char *name;
	const char *pw;
	size_t pwlen;
	int ok;
};

static const struct login logins[] = {
	{"alice", "secret", 6, 1},
	{"bob", "hunter2", 7, 1},
	{"alice", "Secret", 6, 0},
	{"alice", "secret ", 7, 0},
	{"alice", "", 0, 0},
	{"alice", "hunter2", 7, 0},
	{"Alice", "secret", 6, 0},
	{"alicex", "secret", 6, 0},
	{"carol", "secret", 6, 0},
	{"", "secret", 6, 0},
};

/* The check answers as users_authenticate does, in pieces of any size. */
static void
test_check(void **state)
{
	static const unsigned long pieces[] = {1, 7, 999, 1000};
	char err[USERS_ERROR_MAX], pw[257];
	struct users_check c;
	unsigned long steps;
	struct users *u;
	size_t i, k;

	(void)state;
	u = parse(users_text, err);
	assert_non_null(u);
	for (i = 0; i < sizeof(logins) / sizeof(logins[0]); i++) {
		const struct login *l = &logins[i];
		const struct user *want = users_authenticate(
			u, l->name, strlen(l->name), l->pw, l->pwlen);

		assert_int_equal(want != NULL, l->ok);
		for (k = 0; k < sizeof(pieces) / sizeof(pieces[0]); k++) {
			if (check(u, l->name, l->pw, l->pwlen, pieces[k],
				    &steps) != want)
				fail_msg("%s/%.*s in %lu", l->name,
					(int)l->pwlen, l->pw, pieces[k]);
			/* Every user here, and the dummy, has 1000 rounds. */
			assert_int_equal(
				steps, (1000 + pieces[k] - 1) / pieces[k]);
		}
	}

	/* 256 bytes are tried; 257 cost the dummy and fail. */
	memset(pw, 'x', sizeof(pw));
	assert_non_null(check(u, "long", pw, 256, 7, &steps));
	assert_null(check(u, "long", pw, 257, 7, &steps));
	assert_int_equal(steps, (1000 + 6) / 7);

	/* Given up before the end: NULL, and nothing left of the hash. */
	users_check_start(u, "alice", 5, "secret", 6, &c);
	assert_int_equal(users_check_step(&c, 999), 0);
	assert_null(users_check_result(&c));
	assert_null(c.user);
	assert_int_equal(users_check_step(&c, 0), 1);

	/* No set: done at once, and failed. */
	users_check_start(NULL, "alice", 5, "secret", 6, &c);
	assert_int_equal(users_check_step(&c, 0), 1);
	assert_null(users_check_result(&c));
	users_free(u);
}

/* Seconds that n calls of users_authenticate take for name. */
static double
login_time(const struct users *u, const char *name, int n)
{
	struct timespec a, b;
	int i;

	clock_gettime(CLOCK_MONOTONIC, &a);
	for (i = 0; i < n; i++)
		users_authenticate(u, name, strlen(name), "wrong", 5);
	clock_gettime(CLOCK_MONOTONIC, &b);
	return (double)(b.tv_sec - a.tv_sec) +
		(double)(b.tv_nsec - a.tv_nsec) / 1e9;
}

/*
 * An unknown name costs a hash too. The bound is loose on purpose: it
 * tells "hashed" from "answered at once", not small differences.
 */
static void
test_unknown_costs_a_hash(void **state)
{
	char err[USERS_ERROR_MAX];
	struct users *u;
	double known, unknown;

	(void)state;
	u = parse("alice:" H6 ":a@b\n", err);
	assert_non_null(u);
	known = login_time(u, "alice", 20);
	unknown = login_time(u, "mallory", 20);
	printf("# 20 logins: known %.1f ms, unknown %.1f ms\n", known * 1e3,
		unknown * 1e3);
	assert_true(unknown > known / 3);
	users_free(u);
}

struct grant {
	const char *addr;
	int alice, bob;
};

static const struct grant grants[] = {
	{"alice@example.org", 1, 0},
	{"alice@EXAMPLE.ORG", 1, 0},
	{"alice@Example.Org", 1, 0},
	{"Alice@example.org", 0, 0},
	{"ALICE@example.org", 0, 0},
	{"alice@example.org.", 0, 0},
	{"alice@sub.example.org", 0, 0},
	{"alice@example.or", 0, 0},
	{"alicea@example.org", 0, 0},
	{"alic@example.org", 0, 0},
	{"anyone@alice.example", 1, 0},
	{"anyone@ALICE.EXAMPLE", 1, 0},
	{"\"a b\"@alice.example", 1, 0},
	{"x@y@alice.example", 1, 0},
	{"anyone@sub.alice.example", 0, 0},
	{"anyone@alice.example.org", 0, 0},
	{"@alice.example", 0, 0},
	{"alice.example", 0, 0},
	{"anyone@", 0, 0},
	{"", 0, 0},
	{"Bob.Smith@example.org", 0, 1},
	{"Bob.Smith@example.ORG", 0, 1},
	{"bob.smith@example.org", 0, 0},
	{"Bob.Smith@example.org ", 0, 0},
};

static void
test_grants(void **state)
{
	char err[USERS_ERROR_MAX];
	const struct user *alice, *bob;
	struct users *u;
	size_t i;

	(void)state;
	u = parse(users_text, err);
	assert_non_null(u);
	alice = users_authenticate(u, "alice", 5, "secret", 6);
	bob = users_authenticate(u, "bob", 3, "hunter2", 7);
	assert_non_null(alice);
	assert_non_null(bob);
	for (i = 0; i < sizeof(grants) / sizeof(grants[0]); i++) {
		const char *a = grants[i].addr;

		if (user_may_send(alice, a, strlen(a)) != grants[i].alice ||
			user_may_send(bob, a, strlen(a)) != grants[i].bob)
			fail_msg("'%s': alice %d, bob %d", a,
				user_may_send(alice, a, strlen(a)),
				user_may_send(bob, a, strlen(a)));
	}
	/* Only len bytes count: no NUL is needed after the address. */
	assert_int_equal(user_may_send(alice, "alice@example.orgXYZ", 17), 1);
	users_free(u);
}

/* Blanks around the senders are trimmed before they are compared. */
static void
test_grants_trimmed(void **state)
{
	char err[USERS_ERROR_MAX];
	const struct user *a;
	struct users *u;

	(void)state;
	u = parse("alice:" H5 ": a@b.example ,\t*@c.example\t\n", err);
	assert_non_null(u);
	a = users_authenticate(u, "alice", 5, "secret", 6);
	assert_non_null(a);
	assert_int_equal(user_may_send(a, "a@b.example", 11), 1);
	assert_int_equal(user_may_send(a, "z@c.example", 11), 1);
	assert_int_equal(user_may_send(a, "z@b.example", 11), 0);
	users_free(u);
}

static void
test_checks(void **state)
{
	char err[USERS_ERROR_MAX];

	(void)state;
	assert_int_equal(users_check_name("alice", 5, err, sizeof(err)), 0);
	assert_int_equal(users_check_name("a:b", 3, err, sizeof(err)), -1);
	assert_string_equal(err,
		"bad user name 'a:b': want 1 to 64 letters, digits or ._@+-");
	assert_int_equal(
		users_check_senders("a@b,*@c", 7, err, sizeof(err)), 0);
	assert_int_equal(users_check_senders("a@b,", 4, err, sizeof(err)), -1);
	assert_string_equal(err, "empty sender in the list");
	assert_int_equal(users_check_senders("", 0, NULL, 0), -1);
}

/* A line of exactly n bytes (a comment) before the ending. */
static char *
long_line(size_t n, const char *ending)
{
	size_t len = strlen(ending);
	char *s = malloc(n + len + 1);

	assert_non_null(s);
	memset(s, '#', n);
	memcpy(s + n, ending, len + 1);
	return s;
}

static void
test_line_length(void **state)
{
	char err[USERS_ERROR_MAX];
	struct users *u;
	char *s;

	(void)state;
	s = long_line(1023, "\r\n");
	u = parse(s, err);
	assert_non_null(u);
	users_free(u);
	free(s);

	s = long_line(1024, "\n");
	assert_null(parse(s, err));
	assert_string_equal(err, NAME ":1: line longer than 1023 bytes");
	free(s);
}

/* n users "uN:H5:a@b", one a line. */
static char *
many_users(size_t n, size_t *len)
{
	size_t size = n * (sizeof(H5) + 16) + 1, i;
	char *s = malloc(size);

	assert_non_null(s);
	*len = 0;
	for (i = 0; i < n; i++)
		*len += (size_t)snprintf(
			s + *len, size - *len, "u%zu:%s:a@b\n", i, H5);
	return s;
}

static void
test_count_limit(void **state)
{
	char err[USERS_ERROR_MAX];
	struct users *u = NULL;
	size_t len;
	char *s;

	(void)state;
	s = many_users(USERS_COUNT_MAX, &len);
	assert_int_equal(users_parse(&u, NAME, s, len, err, sizeof(err)), 0);
	assert_int_equal(users_count(u), USERS_COUNT_MAX);
	assert_non_null(users_authenticate(u, "u9999", 5, "secret", 6));
	assert_non_null(users_authenticate(u, "u0", 2, "secret", 6));
	users_free(u);
	free(s);

	s = many_users(USERS_COUNT_MAX + 1, &len);
	assert_int_equal(users_parse(&u, NAME, s, len, err, sizeof(err)), -1);
	assert_string_equal(err, NAME ":10001: more than 10000 users");
	free(s);
}

static void
test_size_limit(void **state)
{
	char err[USERS_ERROR_MAX];
	char *buf = malloc(USERS_FILE_MAX + 64);
	struct users *u = NULL;
	size_t i;

	(void)state;
	assert_non_null(buf);
	for (i = 0; i < USERS_FILE_MAX + 1; i += 64) {
		memset(buf + i, '#', 63);
		buf[i + 63] = '\n';
	}
	assert_int_equal(
		users_parse(&u, NAME, buf, USERS_FILE_MAX, err, sizeof(err)),
		0);
	users_free(u);
	assert_int_equal(users_parse(&u, NAME, buf, USERS_FILE_MAX + 1, err,
				 sizeof(err)),
		-1);
	assert_string_equal(err, NAME ": larger than 1048576 bytes");
	free(buf);
}

/* Write s to a new temporary file; returns its path. */
static char *
temp_file(const char *s)
{
	static char path[64];

	testfile_make(path, sizeof(path), s, strlen(s), 0600);
	return path;
}

/* A hash made now by "openssl passwd -5", read back through a file. */
static void
test_openssl_file(void **state)
{
	char hash[160], text[256], err[USERS_ERROR_MAX], want[400];
	struct users *u;
	char *path;
	FILE *f;

	(void)state;
	f = popen("openssl passwd -5 'correct horse'", "r");
	if (f == NULL)
		skip();
	if (fgets(hash, sizeof(hash), f) == NULL) {
		pclose(f);
		skip();
	}
	assert_int_equal(pclose(f), 0);
	hash[strcspn(hash, "\n")] = '\0';
	assert_memory_equal(hash, "$5$", 3);

	snprintf(text, sizeof(text),
		"# made by openssl\ndave:%s:*@dave.example\n", hash);
	path = temp_file(text);
	u = users_load(path, err, sizeof(err));
	if (u == NULL)
		fail_msg("%s", err);
	assert_non_null(users_authenticate(u, "dave", 4, "correct horse", 13));
	assert_null(users_authenticate(u, "dave", 4, "correct horse ", 14));
	users_free(u);
	unlink(path);

	path = temp_file("dave:$1$x$y:a@b\n");
	assert_null(users_load(path, err, sizeof(err)));
	snprintf(want, sizeof(want),
		"%s:1: unknown hash scheme '$1$': MD5 is too weak; want $5$ or "
		"$6$ (SHA-crypt)",
		path);
	assert_string_equal(err, want);
	unlink(path);
}

static void
test_load_missing(void **state)
{
	char err[USERS_ERROR_MAX];

	(void)state;
	assert_null(users_load("/nonexistent/users", err, sizeof(err)));
	assert_string_equal(
		err, "/nonexistent/users: No such file or directory");
	assert_null(users_load("/", err, sizeof(err)));
	assert_string_equal(err, "/: Is a directory");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_lines),
		cmocka_unit_test(test_bad_lines),
		cmocka_unit_test(test_nul_byte),
		cmocka_unit_test(test_authenticate),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_unknown_costs_a_hash),
		cmocka_unit_test(test_grants),
		cmocka_unit_test(test_grants_trimmed),
		cmocka_unit_test(test_checks),
		cmocka_unit_test(test_line_length),
		cmocka_unit_test(test_count_limit),
		cmocka_unit_test(test_size_limit),
		cmocka_unit_test(test_openssl_file),
		cmocka_unit_test(test_load_missing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
