/*
 * Fuzz the SRV answer parser: its input is whatever a name server, or
 * someone spoofing one, sends. Checks the contract in resolve_srv.h on
 * every answer that parses.
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "resolve_srv.h"

static void
check_target(const char *t)
{
	size_t len = strnlen(t, 256);

	assert(len > 0 && len < 256);
	assert(t[len - 1] != '.');
	for (; *t != '\0'; t++)
		assert((*t >= 'a' && *t <= 'z') || (*t >= 'A' && *t <= 'Z') ||
			(*t >= '0' && *t <= '9') || *t == '-' || *t == '_' ||
			*t == '.');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct resolve_srv out[RESOLVE_SRV_MAX];
	size_t n = 99, i;
	int rc;

	rc = resolve_srv_parse(data, size, out, &n);
	if (rc != 0) {
		assert(rc == RESOLVE_ERR_NOTFOUND || rc == RESOLVE_ERR_TEMP);
		assert(n == 0);
		return 0;
	}
	assert(n >= 1 && n <= RESOLVE_SRV_MAX);
	for (i = 0; i < n; i++) {
		check_target(out[i].target);
		if (i > 0)
			assert(out[i - 1].priority < out[i].priority ||
				(out[i - 1].priority == out[i].priority &&
					out[i - 1].weight >= out[i].weight));
	}
	return 0;
}
