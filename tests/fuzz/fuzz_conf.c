/*
 * libFuzzer target for the postlet.conf parser: any bytes, as if read from
 * a file. The parser must refuse or accept them without reading out of
 * bounds, and its error message must always be a terminated string.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "conf/conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[CONF_ERROR_MAX];
	struct conf c;

	conf_defaults(&c);
	if (conf_parse(&c, "fuzz.conf", (const char *)data, size, err,
		    sizeof(err)) != 0) {
		if (memchr(err, '\0', sizeof(err)) == NULL)
			__builtin_trap();
		return 0;
	}
	if (c.nlisten > CONF_LISTEN_MAX)
		__builtin_trap();
	conf_check(&c, "fuzz.conf", err, sizeof(err));
	return 0;
}
