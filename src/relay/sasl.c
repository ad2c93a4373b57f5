/* SASL PLAIN and LOGIN encodings; the contract is in sasl.h. */
#include <string.h>

#include "base64.h"
#include "relay/sasl.h"
#include "wipe.h"

size_t
relay_sasl_plain(
	char *dst, size_t dstlen, const char *user, const char *password)
{
	/* Both are at most 255 bytes (relay_conf), with two NULs. */
	unsigned char msg[2 + 255 + 255];
	size_t ulen = strlen(user), plen = strlen(password);
	long n;

	if (ulen > 255 || plen > 255)
		return 0;
	msg[0] = '\0';
	memcpy(msg + 1, user, ulen);
	msg[1 + ulen] = '\0';
	memcpy(msg + 2 + ulen, password, plen);
	n = base64_encode(msg, 2 + ulen + plen, dst, dstlen);
	/* The password in clear should not outlive this call. */
	wipe(msg, sizeof(msg));
	return n > 0 ? (size_t)n : 0;
}
