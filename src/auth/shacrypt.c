/*
 * SHA-crypt, written from Ulrich Drepper's specification "Unix crypt using
 * SHA-256 and SHA-512" (the step numbers below are its own). One routine
 * serves both schemes through BearSSL's hash classes; the repeated byte
 * sequences P and S of the specification are never built, each is fed to
 * the hash from its digest as often as it is needed, so no buffer grows
 * with the password.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "bearssl_hash.h"

#include "auth/shacrypt.h"
#include "wipe.h"

static const char itoa64[] =
	"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/*
 * Step 22: the digest is not encoded in order. Each group of four output
 * characters takes three digest bytes, named here high byte first; Z is
 * a zero byte, for the short last group.
 */
#define Z 0xff
static const uint8_t order256[] = {0, 10, 20, 21, 1, 11, 12, 22, 2, 3, 13, 23,
	24, 4, 14, 15, 25, 5, 6, 16, 26, 27, 7, 17, 18, 28, 8, 9, 19, 29, Z, 31,
	30};
static const uint8_t order512[] = {0, 21, 42, 22, 43, 1, 44, 2, 23, 3, 24, 45,
	25, 46, 4, 47, 5, 26, 6, 27, 48, 28, 49, 7, 50, 8, 29, 9, 30, 51, 31,
	52, 10, 53, 11, 32, 12, 33, 54, 34, 55, 13, 56, 14, 35, 15, 36, 57, 37,
	58, 16, 59, 17, 38, 18, 39, 60, 40, 61, 19, 62, 20, 41, Z, Z, 63};

struct scheme {
	const br_hash_class *hash;
	size_t len; /* digest bytes */
	const uint8_t *order;
	size_t enclen; /* encoded characters */
};

static const struct scheme schemes[2] = {
	{&br_sha256_vtable, 32, order256, 43},
	{&br_sha512_vtable, 64, order512, 86},
};

static const struct scheme *
scheme_of(int id)
{
	return &schemes[id == 6];
}

size_t
shacrypt_digest_len(int scheme)
{
	return scheme_of(scheme)->enclen;
}

/* "rounds=N$": digits only; values past the maximum saturate. */
static int
parse_rounds(const char *s, size_t len, size_t *pos, unsigned long *rounds)
{
	size_t i = *pos, start = *pos;
	unsigned long v = 0;

	while (i < len && s[i] >= '0' && s[i] <= '9') {
		v = v * 10 + (unsigned long)(s[i] - '0');
		if (v > SHACRYPT_ROUNDS_MAX)
			v = SHACRYPT_ROUNDS_MAX;
		i++;
	}
	if (i == start || i >= len || s[i] != '$')
		return SHACRYPT_ERR_ROUNDS;
	if (v < SHACRYPT_ROUNDS_MIN)
		v = SHACRYPT_ROUNDS_MIN;
	*rounds = v;
	*pos = i + 1;
	return SHACRYPT_OK;
}

int
shacrypt_parse(
	const char *s, size_t len, struct shacrypt_setting *st, size_t *end)
{
	static const char prefix[] = "rounds=";
	size_t pos = 3, n = 0;
	int rc;

	if (len < 3 || s[0] != '$' || memchr(s + 1, '$', len - 1) == NULL)
		return SHACRYPT_ERR_FORM;
	if ((s[1] != '5' && s[1] != '6') || s[2] != '$')
		return SHACRYPT_ERR_SCHEME;
	st->scheme = s[1] - '0';
	st->rounds = SHACRYPT_ROUNDS_DEFAULT;
	st->rounds_given = 0;

	if (len - pos >= sizeof(prefix) - 1 &&
		memcmp(s + pos, prefix, sizeof(prefix) - 1) == 0) {
		pos += sizeof(prefix) - 1;
		rc = parse_rounds(s, len, &pos, &st->rounds);
		if (rc != SHACRYPT_OK)
			return rc;
		st->rounds_given = 1;
	}

	while (pos + n < len && s[pos + n] != '$' && n < SHACRYPT_SALT_MAX)
		n++;
	st->salt = s + pos;
	st->saltlen = n;
	*end = pos + n;
	return SHACRYPT_OK;
}

/* Feed the hash d[0..dlen) repeated until total bytes have gone in. */
static void
add_repeated(
	const br_hash_class **h, const uint8_t *d, size_t dlen, size_t total)
{
	for (; total > dlen; total -= dlen)
		(*h)->update(h, d, dlen);
	(*h)->update(h, d, total);
}

/* Steps 1 to 12: the digest A that the rounds start from. */
static void
initial_digest(const struct scheme *sc, const struct shacrypt_setting *st,
	const uint8_t *pw, size_t pwlen, uint8_t *a)
{
	br_hash_compat_context ctx;
	const br_hash_class **h = &ctx.vtable;
	uint8_t b[64];
	size_t n;

	/* Steps 4 to 8: B = H(password, salt, password). */
	sc->hash->init(h);
	(*h)->update(h, pw, pwlen);
	(*h)->update(h, st->salt, st->saltlen);
	(*h)->update(h, pw, pwlen);
	(*h)->out(h, b);

	/* Steps 1 to 3, 9 to 11. */
	sc->hash->init(h);
	(*h)->update(h, pw, pwlen);
	(*h)->update(h, st->salt, st->saltlen);
	add_repeated(h, b, sc->len, pwlen);
	for (n = pwlen; n > 0; n >>= 1) {
		if (n & 1)
			(*h)->update(h, b, sc->len);
		else
			(*h)->update(h, pw, pwlen);
	}
	(*h)->out(h, a);
	wipe(b, sizeof(b));
	wipe(&ctx, sizeof(ctx));
}

/* Steps 13 to 15 and 17 to 19: a digest of s repeated count times. */
static void
repeated_digest(const struct scheme *sc, const void *s, size_t len,
	size_t count, uint8_t *out)
{
	br_hash_compat_context ctx;
	const br_hash_class **h = &ctx.vtable;

	sc->hash->init(h);
	while (count-- > 0)
		(*h)->update(h, s, len);
	(*h)->out(h, out);
	wipe(&ctx, sizeof(ctx));
}

/* Step 22: Drepper's base64, least significant six bits first. */
static void
encode(const struct scheme *sc, const uint8_t *a, char *out)
{
	size_t i, k = 0;

	for (i = 0; k < sc->enclen; i += 3) {
		uint32_t w = 0;
		size_t j, n;

		for (j = 0; j < 3; j++) {
			uint8_t idx = sc->order[i + j];

			w = (w << 8) | (idx == Z ? 0 : a[idx]);
		}
		n = sc->enclen - k < 4 ? sc->enclen - k : 4;
		for (j = 0; j < n; j++, w >>= 6)
			out[k++] = itoa64[w & 63];
	}
}

void
shacrypt_job_wipe(struct shacrypt_job *j)
{
	wipe(j, sizeof(*j));
}

void
shacrypt_job_start(struct shacrypt_job *j, const struct shacrypt_setting *st,
	const char *pw, size_t pwlen)
{
	const struct scheme *sc = scheme_of(st->scheme);
	const uint8_t *p = (const uint8_t *)pw;

	j->scheme = st->scheme;
	j->rounds = st->rounds;
	j->done = 0;
	j->pwlen = pwlen;
	j->saltlen = st->saltlen;
	initial_digest(sc, st, p, pwlen, j->a);
	repeated_digest(sc, p, pwlen, pwlen, j->dp);
	repeated_digest(sc, st->salt, st->saltlen, 16u + j->a[0], j->ds);
}

/*
 * Step 21: the rounds, numbered from 0 across all steps since the choice
 * of inputs depends on the number.
 */
int
shacrypt_job_step(struct shacrypt_job *j, unsigned long max_rounds)
{
	const struct scheme *sc = scheme_of(j->scheme);
	br_hash_compat_context ctx;
	const br_hash_class **h = &ctx.vtable;
	unsigned long i, left = j->rounds - j->done;
	unsigned long end = j->done + (max_rounds < left ? max_rounds : left);

	for (i = j->done; i < end; i++) {
		sc->hash->init(h);
		if (i & 1)
			add_repeated(h, j->dp, sc->len, j->pwlen);
		else
			(*h)->update(h, j->a, sc->len);
		if (i % 3 != 0)
			(*h)->update(h, j->ds, j->saltlen);
		if (i % 7 != 0)
			add_repeated(h, j->dp, sc->len, j->pwlen);
		if (i & 1)
			(*h)->update(h, j->a, sc->len);
		else
			add_repeated(h, j->dp, sc->len, j->pwlen);
		(*h)->out(h, j->a);
	}
	j->done = end;
	wipe(&ctx, sizeof(ctx));
	return j->done == j->rounds;
}

size_t
shacrypt_job_finish(struct shacrypt_job *j, char *out)
{
	const struct scheme *sc = scheme_of(j->scheme);

	encode(sc, j->a, out);
	shacrypt_job_wipe(j);
	return sc->enclen;
}

void
shacrypt_digest(const struct shacrypt_setting *st, const char *pw, size_t pwlen,
	char *out)
{
	struct shacrypt_job j;

	shacrypt_job_start(&j, st, pw, pwlen);
	shacrypt_job_step(&j, st->rounds);
	shacrypt_job_finish(&j, out);
}

int
shacrypt(const char *pw, size_t pwlen, const char *s, size_t slen, char *out,
	size_t outlen)
{
	struct shacrypt_setting st;
	char rounds[20] = "";
	size_t end, dlen;
	int n;

	if (shacrypt_parse(s, slen, &st, &end) != SHACRYPT_OK)
		return -1;
	if (st.rounds_given)
		snprintf(rounds, sizeof(rounds), "rounds=%lu$", st.rounds);
	n = snprintf(out, outlen, "$%d$%s%.*s$", st.scheme, rounds,
		(int)st.saltlen, st.salt);
	dlen = shacrypt_digest_len(st.scheme);
	if (n < 0 || (size_t)n + dlen >= outlen)
		return -1;
	shacrypt_digest(&st, pw, pwlen, out + n);
	out[(size_t)n + dlen] = '\0';
	return n + (int)dlen;
}
