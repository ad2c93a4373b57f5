/*
 * The SRV answer parser of the Linux board's resolver, apart so that it
 * can be tested with known answers and fuzzed: its input comes from the
 * network.
 */
#ifndef POSTLET_RESOLVE_SRV_H
#define POSTLET_RESOLVE_SRV_H

#include <stddef.h>

#include "resolve.h"

/*
 * Read the SRV records (class IN) of msg[0..len), a DNS answer as
 * res_query returns it (RFC 1035 4.1, RFC 2782), into out, which has room
 * for RESOLVE_SRV_MAX. They come sorted as resolve.h promises; when there
 * are more, the ones that would be tried last are left out. Records with
 * the target "." (service not offered) or a target that is not a host
 * name are skipped. Other record types (a CNAME chain) are stepped over.
 *
 * Returns 0 with 1 <= *n <= RESOLVE_SRV_MAX; RESOLVE_ERR_NOTFOUND for
 * NXDOMAIN or no usable record; RESOLVE_ERR_TEMP for another server error
 * or an answer that breaks off before any usable record. Reads nothing
 * outside msg[0..len).
 */
int resolve_srv_parse(const unsigned char *msg, size_t len,
	struct resolve_srv *out, size_t *n);

#endif
