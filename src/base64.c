#include <string.h>

#include "base64.h"

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
