/*
 * The client side of the two SASL mechanisms postlet offers an upstream
 * (RFC 4954): PLAIN (RFC 4616) and LOGIN, both only inside TLS or on
 * loopback, as relay_conf allows.
 */
#ifndef POSTLET_RELAY_SASL_H
#define POSTLET_RELAY_SASL_H

#include <stddef.h>

/*
 * PLAIN's initial response: base64 of "" NUL user NUL password, no
 * authorisation identity. Returns the length, or 0 if it does not fit.
 */
size_t relay_sasl_plain(
	char *dst, size_t dstlen, const char *user, const char *password);

#endif
