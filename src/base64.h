/* base64 (RFC 4648 section 4), for SASL in both directions. */
#ifndef POSTLET_BASE64_H
#define POSTLET_BASE64_H

#include <stddef.h>

/*
 * Decode base64 (padding required, no white space) from in[0..len) into
 * out. Returns the decoded length, or -1 if in is not base64 or would not
 * fit in outcap.
 */
long
base64_decode(const char *in, size_t len, unsigned char *out, size_t outcap);

/*
 * Encode in[0..len) into out as NUL-terminated base64. Returns the
 * length, or -1 if it would not fit in outcap (NUL included).
 */
long
base64_encode(const unsigned char *in, size_t len, char *out, size_t outcap);

#endif
