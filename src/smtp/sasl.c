#include <string.h>

#include "smtp/sasl.h"

static const char alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int
sextet(char c)
{
	const char *p;

	if (c == '\0')
		return -1;
	p = strchr(alphabet, c);
	return p != NULL ? (int)(p - alphabet) : -1;
}

long
base64_decode(const char *in, size_t len, unsigned char *out, size_t outcap)
{
	size_t i, n = 0;

	if (len % 4 != 0)
		return -1;
	for (i = 0; i < len; i += 4) {
		int v[4], k, pad = 0;
		unsigned long w = 0;

		for (k = 0; k < 4; k++) {
			/* '=' only at the end, and at most two of them. */
			if (in[i + k] == '=' && i + 4 == len && k >= 2) {
				pad++;
				v[k] = 0;
				continue;
			}
			if (pad > 0 || (v[k] = sextet(in[i + k])) < 0)
				return -1;
		}
		for (k = 0; k < 4; k++)
			w = w << 6 | (unsigned long)v[k];
		if (n + 3 - (size_t)pad > outcap)
			return -1;
		for (k = 0; k < 3 - pad; k++)
			out[n++] = (unsigned char)(w >> (16 - 8 * k));
	}
	return (long)n;
}

long
base64_encode(const unsigned char *in, size_t len, char *out, size_t outcap)
{
	size_t i, n = 0;

	if ((len + 2) / 3 * 4 + 1 > outcap)
		return -1;
	for (i = 0; i < len; i += 3) {
		unsigned long w = (unsigned long)in[i] << 16;
		size_t left = len - i;

		if (left > 1)
			w |= (unsigned long)in[i + 1] << 8;
		if (left > 2)
			w |= in[i + 2];
		out[n++] = alphabet[w >> 18 & 63];
		out[n++] = alphabet[w >> 12 & 63];
		out[n++] = left > 1 ? alphabet[w >> 6 & 63] : '=';
		out[n++] = left > 2 ? alphabet[w & 63] : '=';
	}
	out[n] = '\0';
	return (long)n;
}

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
	/* volatile: the compiler may not drop a store it sees as dead. */
	volatile unsigned char *p = (volatile unsigned char *)c;
	size_t i;

	for (i = 0; i < sizeof(*c); i++)
		p[i] = 0;
}
