/*
 * SHA-crypt: the "$5$" (SHA-256) and "$6$" (SHA-512) password hashes of
 * Ulrich Drepper's "Unix crypt using SHA-256 and SHA-512", as glibc's
 * crypt(3), mkpasswd and "openssl passwd -5/-6" make them:
 *
 *   $5$[rounds=N$]SALT$DIGEST      DIGEST 43 characters
 *   $6$[rounds=N$]SALT$DIGEST      DIGEST 86 characters
 *
 * Cost grows with rounds times the password's length; both are bounded by
 * the callers (users.h), since one thread serves every session.
 */
#ifndef POSTLET_SHACRYPT_H
#define POSTLET_SHACRYPT_H

#include <stddef.h>

#define SHACRYPT_SALT_MAX 16
#define SHACRYPT_ROUNDS_DEFAULT 5000
#define SHACRYPT_ROUNDS_MIN 1000
#define SHACRYPT_ROUNDS_MAX 999999999UL
#define SHACRYPT_DIGEST_MAX 86 /* encoded characters, $6$ */

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
 * out, which holds at least shacrypt_digest_len(st->scheme) bytes.
 */
void shacrypt_digest(const struct shacrypt_setting *st, const char *pw,
	size_t pwlen, char *out);

/*
 * crypt(3) for $5$ and $6$: hash pw under the setting in s (anything after
 * the salt is ignored, so a whole stored hash may be passed) and write
 * the complete hash with its NUL to out[0..outlen). Returns its length, or
 * -1 when the setting is bad or out too small.
 */
int shacrypt(const char *pw, size_t pwlen, const char *s, size_t slen,
	char *out, size_t outlen);

#endif
