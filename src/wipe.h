/* Clearing secrets (passwords, keys, their digests) from memory. */
#ifndef POSTLET_WIPE_H
#define POSTLET_WIPE_H

#include <stddef.h>

/*
 * Zero p[0..len). Unlike memset, the stores cannot be dropped by the
 * compiler as dead because the buffer is about to go out of scope.
 */
void wipe(void *p, size_t len);

#endif
