/*
 * SASL pieces of SMTP AUTH (RFC 4954) that postlet's server speaks: the
 * PLAIN (RFC 4616) and LOGIN mechanisms. Pure decoding, no policy.
 */
#ifndef POSTLET_SMTP_SASL_H
#define POSTLET_SMTP_SASL_H

#include <stddef.h>

/* RFC 4954 4: a SASL response line may be 12288 octets long. */
#define SASL_LINE_MAX 12288
#define SASL_NAME_MAX 255
#define SASL_PASS_MAX 255

struct sasl_creds {
	char name[SASL_NAME_MAX + 1];
	size_t namelen;
	char pass[SASL_PASS_MAX + 1];
	size_t passlen;
};

enum sasl_err {
	SASL_OK,
	SASL_ERR_BASE64, /* 501 5.5.2: not base64 */
	SASL_ERR_FORMAT, /* 501 5.5.2: not authzid NUL authcid NUL passwd */
	SASL_ERR_AUTHZ, /* 535 5.7.8: asks to act as someone else */
};

/*
 * Decode a PLAIN response. An authorization identity is accepted only
 * when empty or equal to the authentication identity: postlet has no
 * notion of one user submitting as another.
 */
enum sasl_err
sasl_plain_decode(const char *b64, size_t len, struct sasl_creds *out);

/* Decode one LOGIN response (user name or password) into buf. */
enum sasl_err sasl_login_decode(
	const char *b64, size_t len, char *buf, size_t cap, size_t *outlen);

/* Overwrite credentials before the memory is reused. */
void sasl_creds_wipe(struct sasl_creds *c);

#endif
