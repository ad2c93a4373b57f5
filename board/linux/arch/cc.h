/* Compiler and C library glue for lwIP on Linux with musl or glibc. */
#ifndef POSTLET_ARCH_CC_H
#define POSTLET_ARCH_CC_H

#include <stdio.h>
#include <stdlib.h>

/* lwIP would otherwise declare its own struct timeval. */
#define LWIP_TIMEVAL_PRIVATE 0
#include <sys/time.h>

/* lwIP's errno values must not clash with the C library's. */
#define LWIP_ERRNO_STDINCLUDE 1

/*
 * lwIP assumes little-endian unless told: on big-endian MIPS routers it
 * would swap every address. lwIP's own files are built without the
 * feature macros that make <endian.h> say so, hence the compiler's word.
 */
#ifndef BYTE_ORDER
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define BYTE_ORDER BIG_ENDIAN
#else
#define BYTE_ORDER LITTLE_ENDIAN
#endif
#endif

#define LWIP_RAND() ((u32_t)postlet_lwip_rand())
unsigned int postlet_lwip_rand(void);

/*
 * An lwIP assertion means our invariants broke: stop loudly rather than
 * run on with a corrupted stack.
 */
#define LWIP_PLATFORM_DIAG(x) \
	do { \
		printf x; \
	} while (0)
#define LWIP_PLATFORM_ASSERT(x) \
	do { \
		fprintf(stderr, "lwip assertion \"%s\" at %s:%d\n", x, \
			__FILE__, __LINE__); \
		abort(); \
	} while (0)

#endif
