/*
 * Inside src/conf/: the parser's state for one line, the directive table
 * and the value checkers the directives share. Nothing here is for the
 * rest of postlet; it includes conf.h instead.
 */
#ifndef POSTLET_CONF_IMPL_H
#define POSTLET_CONF_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "conf/conf.h"

/* A directive and at most this many values; more is always an error. */
#define CONF_ARGS_MAX 4

/* How much of a bad token an error message quotes. */
#define CONF_QUOTE_MAX 40

/*
 * The line being parsed. Tokens point into a copy of the line the parser
 * owns, so handlers may read them until the next line only.
 */
struct conf_ctx {
	const char *name; /* file name, for messages */
	unsigned lineno;
	char *err;
	size_t errlen;
	int reported; /* a handler wrote its own message */
	char *argv[CONF_ARGS_MAX];
	unsigned argc;
};

struct conf_directive;

/*
 * Apply the values argv[1..argc) of directive d to c. Returns 0, or -1
 * when a value is wrong: the caller then says "'name' wants <d->wants>"
 * unless the handler reported a more precise problem with conf_error.
 */
typedef int (*conf_set_fn)(
	struct conf_ctx *x, const struct conf_directive *d, struct conf *c);

struct conf_directive {
	const char *name;
	conf_set_fn set;
	unsigned char max_args; /* values after the name; at least one */
	unsigned char repeat; /* may appear more than once */
	const char *wants; /* what a good value looks like */
	size_t off; /* field of struct conf, for shared setters */
	unsigned lo, hi; /* number range, or the size of a string field */
};

/* The directive called name, or NULL. */
const struct conf_directive *conf_directive_find(const char *name);

/* Its position in the table, for remembering which were seen. */
unsigned conf_directive_index(const struct conf_directive *d);

/* Write "name:line: " and the message into x->err; returns -1. */
int conf_error(struct conf_ctx *x, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * Value checkers. Each returns 0 when s is good (storing what it means),
 * -1 when not; none writes an error message.
 */

/* A plain decimal number in lo..hi: digits only, no sign, no leading 0. */
int conf_value_number(const char *s, unsigned lo, unsigned hi, unsigned *out);

/* A host name: dot-separated labels of letters, digits and inner hyphens. */
int conf_value_domain(const char *s);

/* The index of s in the NULL-terminated list words. */
int conf_value_word(const char *s, const char *const *words);

/*
 * A literal address of family 4 or 6 (never a name), written back in
 * canonical form to out (at least 48 bytes). bin gets the 4 or 16 bytes.
 */
int conf_value_ip(
	const char *s, int family, char *out, size_t outlen, uint8_t *bin);

/*
 * The same, for an address an interface or gateway can carry: not
 * unspecified, loopback, multicast or the IPv4 broadcast address.
 */
int conf_value_host(const char *s, int family, char *out, size_t outlen);

/* "ADDRESS/LEN" with LEN in 1..32 or 1..128 for an interface address. */
int conf_value_prefix(
	const char *s, int family, char *out, size_t outlen, uint8_t *len);

/* "ADDRESS:PORT" as listen takes it: IPv4, [IPv6] or "*". */
int conf_value_listen(const char *s, struct conf_listen *l);

/* Copy s into dst[0..size) if it fits with its NUL. */
int conf_value_string(const char *s, char *dst, size_t size);

#endif
