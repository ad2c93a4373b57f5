/*
 * SHA-crypt: the "$5$" (SHA-256) and "$6$" (SHA-512) password hashes of
 * Ulrich Drepper's "Unix crypt using SHA-256 and SHA-512", as glibc's
 * crypt(3), mkpasswd and "openssl passwd -5/-6" make them:
 *
 *   $5$[rounds=N$]SALT$DIGEST      DIGEST 43 characters
 *   $6$[rounds=N$]SALT$DIGEST      DIGEST 86 characters
 *
 * Cost grows with rounds times the password's length; both are bounded by
 * the callers (users.h), since one thread serves every session. A job
 * (shacrypt_job_start) runs the rounds a few at a time, so that the loop
 * can serve other sessions between them.
 */
#ifndef POSTLET_SHACRYPT_H
#define POSTLET_SHACRYPT_H

#include <stddef.h>
#include <stdint.h>

#define SHACRYPT_SALT_MAX 16
#define SHACRYPT_ROUNDS_DEFAULT 5000
#define SHACRYPT_ROUNDS_MIN 1000
#define SHACRYPT_ROUNDS_MAX 999999999UL
#define SHACRYPT_DIGEST_MAX 86 /* encoded characters, $6$ */
#define SHACRYPT_HASH_MAX 64 /* digest bytes, SHA-512 */

/* "$6$rounds=999999999$", 16 salt, "$", digest, NUL */
#define SHACRYPT_OUT_MAX (20 + SHACRYPT_SALT_MAX + 1 + SHACRYPT_DIGEST_MAX + 1)

/* What shacrypt_parse found wrong, so callers can name the problem. */
enum shacrypt_status {
	SHACRYPT_OK = 0,
	SHACRYPT_ERR_FORM = -1, /* does not begin with "$id$" */
	SHACRYPT_ERR_SCHEME = -2, /* "$id$" other than $5$ and $6$ */
	SHACRYPT_ERR_ROUNDS = -3 /* "rounds=" without digits and '$' */
};

/*
 * A parsed setting. salt points into the string given to shacrypt_parse,
 * which must outlive it.
 */
struct shacrypt_setting {
	int scheme; /* 5 or 6 */
	unsigned long rounds; /* clamped to the specification's range */
	int rounds_given; /* "rounds=" was written, so the output repeats it */
	const char *salt;
	size_t saltlen; /* at most SHACRYPT_SALT_MAX */
};

/*
 * Parse the setting at the start of s[0..len): "$5$" or "$6$", an optional
 * "rounds=N$", and a salt that ends at '$', at the end of s or after 16
 * characters, whichever comes first. As the specification says, rounds
 * below 1000 count as 1000 and above 999999999 as 999999999. *end gets
 * the position after the salt (its '$', if any, is not consumed). Returns
 * SHACRYPT_OK or a negative enum shacrypt_status.
 */
int shacrypt_parse(
	const char *s, size_t len, struct shacrypt_setting *st, size_t *end);

/* Characters of the encoded digest of scheme 5 or 6: 43 or 86. */
size_t shacrypt_digest_len(int scheme);

/*
 * Hash pw[0..pwlen) under st and write the encoded digest (no NUL) to
 * out, which holds at least shacrypt_digest_len(st->scheme) bytes. All
 * rounds run at once: a job does the same in pieces.
 */
void shacrypt_digest(const struct shacrypt_setting *st, const char *pw,
	size_t pwlen, char *out);

/*
 * A hash in progress, owned by the caller; no allocation. It holds what
 * the rounds need (the digests that stand for the password and the salt,
 * and the running digest) but neither the password nor the setting.
 * The digests let a password be guessed cheaply, so every job ends in
 * shacrypt_job_finish or shacrypt_job_wipe.
 */
struct shacrypt_job {
	uint8_t a[SHACRYPT_HASH_MAX]; /* the running digest */
	uint8_t dp[SHACRYPT_HASH_MAX]; /* P repeats it to pwlen bytes */
	uint8_t ds[SHACRYPT_HASH_MAX]; /* S is its first saltlen bytes */
	size_t pwlen;
	size_t saltlen;
	unsigned long rounds;
	unsigned long done;
	int scheme;
};

/*
 * Begin hashing pw[0..pwlen) under st. No rounds run yet, but one hash
 * goes over pwlen times pwlen bytes (the specification's step 14), so
 * the caller bounds pwlen. Neither st, its salt nor pw is used after the
 * call.
 */
void shacrypt_job_start(struct shacrypt_job *j,
	const struct shacrypt_setting *st, const char *pw, size_t pwlen);

/*
 * Run at most max_rounds more rounds. Returns 1 when all are done (at
 * once for a wiped job, which has none left), else 0; with max_rounds 0
 * it only tells which.
 */
int shacrypt_job_step(struct shacrypt_job *j, unsigned long max_rounds);

/*
 * Write the encoded digest (no NUL) to out, as shacrypt_digest does, and
 * wipe j. Returns the characters written, shacrypt_digest_len(). Only
 * after shacrypt_job_step returned 1 is the digest the password's hash.
 */
size_t shacrypt_job_finish(struct shacrypt_job *j, char *out);

/* Clear j, for a hash abandoned before its end. */
void shacrypt_job_wipe(struct shacrypt_job *j);

/*
 * crypt(3) for $5$ and $6$: hash pw under the setting in s (anything after
 * the salt is ignored, so a whole stored hash may be passed) and write
 * the complete hash with its NUL to out[0..outlen). Returns its length, or
 * -1 when the setting is bad or out too small.
 */
int shacrypt(const char *pw, size_t pwlen, const char *s, size_t slen,
	char *out, size_t outlen);

#endif
