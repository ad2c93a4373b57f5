#include <string.h>

#include "base64.h"
#include "smtp/sasl.h"
#include "wipe.h"

enum sasl_err
sasl_plain_decode(const char *b64, size_t len, struct sasl_creds *out)
{
	unsigned char buf[SASL_NAME_MAX * 2 + SASL_PASS_MAX + 3];
	const unsigned char *authz, *authc, *pass, *end;
	long n = base64_decode(b64, len, buf, sizeof(buf));
	enum sasl_err e = SASL_ERR_FORMAT;
	size_t zlen;

	memset(out, 0, sizeof(*out));
	if (n < 0) {
		/* Not base64, or longer than any response we would take. */
		e = SASL_ERR_BASE64;
		goto done;
	}
	end = buf + n;
	authz = buf;
	authc = memchr(authz, '\0', (size_t)(end - authz));
	if (authc == NULL)
		goto done;
	authc++;
	pass = memchr(authc, '\0', (size_t)(end - authc));
	if (pass == NULL)
		goto done;
	pass++;
	out->namelen = (size_t)(pass - 1 - authc);
	out->passlen = (size_t)(end - pass);
	if (out->namelen == 0 || out->namelen > SASL_NAME_MAX ||
		out->passlen == 0 || out->passlen > SASL_PASS_MAX ||
		memchr(pass, '\0', out->passlen) != NULL)
		goto done;
	zlen = (size_t)(authc - 1 - authz);
	if (zlen != 0 &&
		(zlen != out->namelen || memcmp(authz, authc, zlen) != 0)) {
		e = SASL_ERR_AUTHZ;
		goto done;
	}
	memcpy(out->name, authc, out->namelen);
	memcpy(out->pass, pass, out->passlen);
	e = SASL_OK;
done:
	memset(buf, 0, sizeof(buf));
	if (e != SASL_OK)
		sasl_creds_wipe(out);
	return e;
}

enum sasl_err
sasl_login_decode(
	const char *b64, size_t len, char *buf, size_t cap, size_t *outlen)
{
	long n;

	if (cap == 0)
		return SASL_ERR_FORMAT;
	n = base64_decode(b64, len, (unsigned char *)buf, cap - 1);
	if (n < 0)
		return SASL_ERR_BASE64;
	if (n == 0 || memchr(buf, '\0', (size_t)n) != NULL) {
		memset(buf, 0, cap);
		return SASL_ERR_FORMAT;
	}
	buf[n] = '\0';
	*outlen = (size_t)n;
	return SASL_OK;
}

void
sasl_creds_wipe(struct sasl_creds *c)
{
	wipe(c, sizeof(*c));
}
