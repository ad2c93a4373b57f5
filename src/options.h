/*
 * Compile-time options. Each is 0 or 1 and may be overridden with -D on
 * the compiler's command line or in a local header named by
 * -DPOSTLET_LOCAL_OPTIONS='"file.h"', read first. Test them with #if only,
 * never #ifdef, so that -Wundef catches a misspelt name.
 */
#ifndef POSTLET_OPTIONS_H
#define POSTLET_OPTIONS_H

#ifdef POSTLET_LOCAL_OPTIONS
#include POSTLET_LOCAL_OPTIONS
#endif

/*
 * The tap backend: lwIP's own TCP/IP stack on a TAP device, so postlet is
 * a host of its own on a bridge. Firmware that only uses the kernel's
 * stack (the host backend) can leave it out and save lwIP's IP code.
 * The Makefile sets it from TAP=0/1 and links net_tap.c accordingly.
 */
#ifndef POSTLET_TAP
#define POSTLET_TAP 1
#endif

/*
 * Debug traces (state changes, engine steps). Off in builds for devices:
 * they cost flash and nobody reads them there.
 */
#ifndef POSTLET_DEBUG
#define POSTLET_DEBUG 0
#endif

#if POSTLET_TAP != 0 && POSTLET_TAP != 1
#error "POSTLET_TAP must be 0 or 1"
#endif
#if POSTLET_DEBUG != 0 && POSTLET_DEBUG != 1
#error "POSTLET_DEBUG must be 0 or 1"
#endif

#endif
