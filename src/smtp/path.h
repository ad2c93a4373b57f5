/*
 * Envelope addresses of MAIL and RCPT (RFC 5321 4.1.2) and their ESMTP
 * parameters. Pure parsing: no policy, no I/O.
 */
#ifndef POSTLET_SMTP_PATH_H
#define POSTLET_SMTP_PATH_H

#include <stddef.h>

/* RFC 5321 4.5.3.1.3: a path is at most 256 octets with its brackets. */
#define SMTP_ADDR_MAX 256

struct smtp_path {
	char addr[SMTP_ADDR_MAX + 1]; /* local@domain, NUL-terminated */
	size_t len;
	int null; /* "<>": the null reverse-path */
	int qualified; /* 1 when postlet added "@domain" */
	int utf8; /* the address has bytes above 0x7f (RFC 6531) */
};

enum path_err {
	PATH_OK,
	PATH_ERR_SYNTAX,
	PATH_ERR_TOO_LONG,
};

/*
 * Parse "<path>" at the start of s (after "FROM:" or "TO:"), as a client
 * writes it. A source route (<@a,@b:x@y>) is dropped, as RFC 5321 4.1.2
 * lets a receiver do. An address without "@" is qualified with domain
 * (RFC 6409 5.2: an MSA makes every domain fully qualified); domain NULL
 * refuses it. allow_null accepts "<>". On PATH_OK, *rest points after ">".
 */
enum path_err smtp_path_parse(const char *s, const char *domain, int allow_null,
	struct smtp_path *out, const char **rest);

/* ESMTP parameters of MAIL (RFC 1870 SIZE, 6152 BODY, 6531 SMTPUTF8). */
struct smtp_mail_params {
	unsigned long size; /* 0 when not given */
	int body_8bit; /* BODY=8BITMIME */
	int smtputf8;
};

enum params_err {
	PARAMS_OK,
	PARAMS_ERR_SYNTAX, /* 501 5.5.4 */
	PARAMS_ERR_UNKNOWN, /* 555 5.5.4 */
	PARAMS_ERR_SIZE, /* SIZE value not a number: 501 5.5.4 */
};

/*
 * Parse what follows the path of MAIL: space-separated KEYWORD[=VALUE].
 * *bad points at the offending parameter on error.
 */
enum params_err smtp_mail_params_parse(
	const char *s, struct smtp_mail_params *p, const char **bad);

/* RCPT takes no parameters from us: anything but spaces is unknown. */
enum params_err smtp_rcpt_params_parse(const char *s, const char **bad);

#endif
