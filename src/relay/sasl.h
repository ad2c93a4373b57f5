/*
 * The client side of the two SASL mechanisms postlet offers an upstream
 * (RFC 4954): PLAIN (RFC 4616) and LOGIN, both only inside TLS or on
 * loopback, as relay_conf allows.
 */
#ifndef POSTLET_RELAY_SASL_H
#define POSTLET_RELAY_SASL_H

#include <stddef.h>

/*
 * Base64 (RFC 4648 4, with padding) of src[0..len) into dst, NUL-
 * terminated. Returns the length written, or 0 when dstlen is too small
 * (or len is 0).
 */
size_t relay_base64(char *dst, size_t dstlen, const void *src, size_t len);

/*
 * PLAIN's initial response: base64 of "" NUL user NUL password, no
 * authorisation identity. Returns the length, or 0 if it does not fit.
 */
size_t relay_sasl_plain(
	char *dst, size_t dstlen, const char *user, const char *password);

#endif
