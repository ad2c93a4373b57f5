/* SASL PLAIN and LOGIN encodings; the contract is in sasl.h. */
#include <string.h>

#include "relay/sasl.h"

static const char alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t
relay_base64(char *dst, size_t dstlen, const void *src, size_t len)
{
	const unsigned char *s = src;
	size_t out = (len + 2) / 3 * 4, i, o = 0;

	if (len == 0 || out >= dstlen)
		return 0;
	for (i = 0; i + 2 < len; i += 3) {
		unsigned long v = (unsigned long)s[i] << 16 |
			(unsigned long)s[i + 1] << 8 | s[i + 2];

		dst[o++] = alphabet[v >> 18 & 63];
		dst[o++] = alphabet[v >> 12 & 63];
		dst[o++] = alphabet[v >> 6 & 63];
		dst[o++] = alphabet[v & 63];
	}
	if (i < len) {
		unsigned long v = (unsigned long)s[i] << 16;

		if (i + 1 < len)
			v |= (unsigned long)s[i + 1] << 8;
		dst[o++] = alphabet[v >> 18 & 63];
		dst[o++] = alphabet[v >> 12 & 63];
		dst[o++] = i + 1 < len ? alphabet[v >> 6 & 63] : '=';
		dst[o++] = '=';
	}
	dst[o] = '\0';
	return o;
}

size_t
relay_sasl_plain(
	char *dst, size_t dstlen, const char *user, const char *password)
{
	/* Both are at most 255 bytes (relay_conf), with two NULs. */
	unsigned char msg[2 + 255 + 255];
	size_t ulen = strlen(user), plen = strlen(password), n;
	volatile unsigned char *v = msg;

	if (ulen > 255 || plen > 255)
		return 0;
	msg[0] = '\0';
	memcpy(msg + 1, user, ulen);
	msg[1 + ulen] = '\0';
	memcpy(msg + 2 + ulen, password, plen);
	n = relay_base64(dst, dstlen, msg, 2 + ulen + plen);
	/* The password in clear should not outlive this call. */
	for (size_t i = 0; i < sizeof(msg); i++)
		v[i] = 0;
	return n;
}
