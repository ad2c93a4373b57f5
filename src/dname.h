/* Host names as RFC 1123 2.1 allows them, for config and grants. */
#ifndef POSTLET_DNAME_H
#define POSTLET_DNAME_H

#include <stddef.h>

/* A domain name holds at most 253 octets in text (RFC 1035 2.3.4). */
#define DNAME_MAX 253
#define DNAME_LABEL_MAX 63

/*
 * 1 if s[0..len) is a host name: dot-separated labels of 1 to 63 ASCII
 * letters, digits and hyphens, no label starting or ending with a hyphen,
 * no empty label, at most DNAME_MAX octets. Else 0.
 */
int dname_valid(const char *s, size_t len);

#endif
