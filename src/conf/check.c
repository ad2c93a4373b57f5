/*
 * What no single line can tell: the rules that tie directives together,
 * checked once the whole file is read.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "conf/conf_impl.h"

/* Each rule returns NULL when c keeps it, or what is wrong. */
typedef const char *(*check_fn)(const struct conf *c);

static const char *
need_listen(const struct conf *c)
{
	return c->nlisten == 0 ? "at least one 'listen' is required" : NULL;
}

static const char *
need_certificate(const struct conf *c)
{
	return c->certificate[0] == '\0' ? "'certificate' is required" : NULL;
}

static const char *
need_key(const struct conf *c)
{
	return c->key[0] == '\0' ? "'key' is required" : NULL;
}

/* The parser refuses a repeated listener; this guards other callers. */
static const char *
unique_listen(const struct conf *c)
{
	size_t i, j;

	for (i = 0; i < c->nlisten; i++)
		for (j = i + 1; j < c->nlisten; j++)
			if (c->listen[i].family == c->listen[j].family &&
				c->listen[i].port == c->listen[j].port &&
				strcmp(c->listen[i].addr, c->listen[j].addr) ==
					0)
				return "two 'listen' share address and port";
	return NULL;
}

static const char *
tap_address(const struct conf *c)
{
	if (c->backend != CONF_BACKEND_TAP)
		return NULL;
	if (!c->tap.dhcp && c->tap.addr4[0] == '\0')
		return "'backend tap' requires 'tap_address4'";
	return NULL;
}

/*
 * DHCP brings its own router option, and a gateway off the local network
 * could not be reached without one: both are mistakes.
 */
static const char *
tap_gateway(const struct conf *c)
{
	struct in_addr a, g;
	uint32_t mask;

	if (c->tap.gateway4[0] == '\0')
		return NULL;
	if (c->tap.dhcp || c->tap.addr4[0] == '\0')
		return "'tap_gateway4' requires a static 'tap_address4'";
	if (inet_pton(AF_INET, c->tap.addr4, &a) != 1 ||
		inet_pton(AF_INET, c->tap.gateway4, &g) != 1 ||
		c->tap.prefix4 < 1 || c->tap.prefix4 > 32)
		return "'tap_address4' or 'tap_gateway4' is malformed";
	mask = htonl(c->tap.prefix4 == 32 ? UINT32_MAX
					  : ~(UINT32_MAX >> c->tap.prefix4));
	if ((a.s_addr & mask) != (g.s_addr & mask))
		return "'tap_gateway4' is outside the network of "
		       "'tap_address4'";
	return NULL;
}

/* Sessions per client are part of max_sessions, never more. */
static const char *
sessions_per_client(const struct conf *c)
{
	if (c->max_sessions_per_client > c->max_sessions)
		return "'max_sessions_per_client' is larger than "
		       "'max_sessions'";
	return NULL;
}

static const check_fn checks[] = {
	need_listen,
	unique_listen,
	need_certificate,
	need_key,
	tap_address,
	tap_gateway,
	sessions_per_client,
};

int
conf_check(const struct conf *c, const char *name, char *err, size_t errlen)
{
	size_t i;

	for (i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
		const char *problem = checks[i](c);

		if (problem != NULL) {
			snprintf(err, errlen, "%s: %s", name, problem);
			return -1;
		}
	}
	return 0;
}
