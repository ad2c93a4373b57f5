/* Envelope paths and MAIL parameters: known answers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "smtp/path.h"

static const struct {
	const char *in;
	int allow_null;
	enum path_err err;
	const char *addr; /* expected address, or "" for the null path */
	const char *rest;
} paths[] = {
	{"<alice@example.org>", 0, PATH_OK, "alice@example.org", ""},
	{"<alice@example.org> SIZE=10", 0, PATH_OK, "alice@example.org",
		" SIZE=10"},
	{"<Alice.B+tag@Sub.Example.ORG>", 0, PATH_OK,
		"Alice.B+tag@Sub.Example.ORG", ""},
	{"<\"a b\"@example.org>", 0, PATH_OK, "\"a b\"@example.org", ""},
	{"<alice>", 0, PATH_OK, "alice@home.test", ""},
	{"<@relay.test,@b.test:alice@example.org>", 0, PATH_OK,
		"alice@example.org", ""},
	{"<a@[192.0.2.1]>", 0, PATH_OK, "a@[192.0.2.1]", ""},
	{"<j\xc3\xb6rg@b\xc3\xbc.test>", 0, PATH_OK,
		"j\xc3\xb6rg@b\xc3\xbc.test", ""},
	{"<>", 1, PATH_OK, "", ""},
	{"<>", 0, PATH_ERR_SYNTAX, NULL, NULL},
	{"alice@example.org", 0, PATH_ERR_SYNTAX, NULL, NULL},
	{"<alice@example.org", 0, PATH_ERR_SYNTAX, NULL, NULL},
	{"<alice@@example.org>", 0, PATH_ERR_SYNTAX, NULL, NULL},
	{"<alice@-bad.org>", 0, PATH_ERR_SYNTAX, NULL, NULL},
	{"<alice@bad-.org>", 0, PATH_ERR_SYNTAX, NULL, NULL},
	{"<alice@exa mple.org>", 0, PATH_ERR_SYNTAX, NULL, NULL},
	{"<a..b@example.org>", 0, PATH_ERR_SYNTAX, NULL, NULL},
	{"<.a@example.org>", 0, PATH_ERR_SYNTAX, NULL, NULL},
	{"<a@example.org.>", 0, PATH_ERR_SYNTAX, NULL, NULL},
	{"<\"a\x01\"@example.org>", 0, PATH_ERR_SYNTAX, NULL, NULL},
	{"<a@[]>", 0, PATH_ERR_SYNTAX, NULL, NULL},
	{"<a(b)@example.org>", 0, PATH_ERR_SYNTAX, NULL, NULL},
};

static void
test_paths(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		struct smtp_path p;
		const char *rest = NULL;
		enum path_err e = smtp_path_parse(paths[i].in, "home.test",
			paths[i].allow_null, &p, &rest);

		assert_int_equal(e, paths[i].err);
		if (e != PATH_OK)
			continue;
		assert_string_equal(p.addr, paths[i].addr);
		assert_int_equal(p.len, strlen(paths[i].addr));
		assert_int_equal(p.null, paths[i].addr[0] == '\0');
		assert_string_equal(rest, paths[i].rest);
	}
}

static void
test_unqualified_without_domain(void **state)
{
	struct smtp_path p;
	const char *rest;

	(void)state;
	assert_int_equal(smtp_path_parse("<alice>", NULL, 0, &p, &rest),
		PATH_ERR_SYNTAX);
	assert_int_equal(
		smtp_path_parse("<alice>", "d.test", 0, &p, &rest), PATH_OK);
	assert_int_equal(p.qualified, 1);
}

static void
test_too_long(void **state)
{
	char buf[400];
	struct smtp_path p;
	const char *rest;

	(void)state;
	/* A 65-octet local part breaks RFC 5321 4.5.3.1.1. */
	memset(buf, 'a', sizeof(buf));
	buf[0] = '<';
	memcpy(buf + 66, "@x.test>", 9);
	assert_int_equal(
		smtp_path_parse(buf, NULL, 0, &p, &rest), PATH_ERR_TOO_LONG);
	/* A path over 256 octets breaks 4.5.3.1.3. */
	memset(buf, 'a', sizeof(buf));
	buf[0] = '<';
	buf[10] = '@';
	memcpy(buf + 300, ".test>", 7);
	assert_int_equal(
		smtp_path_parse(buf, NULL, 0, &p, &rest), PATH_ERR_TOO_LONG);
}

static void
test_mail_params(void **state)
{
	struct smtp_mail_params mp;
	const char *bad = NULL;

	(void)state;
	assert_int_equal(smtp_mail_params_parse("", &mp, &bad), PARAMS_OK);
	assert_int_equal(mp.size, 0);
	assert_int_equal(smtp_mail_params_parse(" SIZE=1234 body=8bitmime "
						"SMTPUTF8",
				 &mp, &bad),
		PARAMS_OK);
	assert_int_equal(mp.size, 1234);
	assert_int_equal(mp.body_8bit, 1);
	assert_int_equal(mp.smtputf8, 1);
	assert_int_equal(
		smtp_mail_params_parse(" BODY=7BIT AUTH=<>", &mp, &bad),
		PARAMS_OK);
	assert_int_equal(mp.body_8bit, 0);
	assert_int_equal(smtp_mail_params_parse(" SIZE=12x", &mp, &bad),
		PARAMS_ERR_SIZE);
	assert_int_equal(smtp_mail_params_parse(" SIZE=99999999999", &mp, &bad),
		PARAMS_ERR_SIZE);
	assert_int_equal(smtp_mail_params_parse(" BODY=BINARYMIME", &mp, &bad),
		PARAMS_ERR_SYNTAX);
	assert_int_equal(smtp_mail_params_parse(" RET=HDRS", &mp, &bad),
		PARAMS_ERR_UNKNOWN);
	assert_string_equal(bad, "RET=HDRS");
	assert_int_equal(
		smtp_mail_params_parse("SIZE=1", &mp, &bad), PARAMS_ERR_SYNTAX);
	assert_int_equal(smtp_rcpt_params_parse("  ", &bad), PARAMS_OK);
	assert_int_equal(smtp_rcpt_params_parse(" NOTIFY=NEVER", &bad),
		PARAMS_ERR_UNKNOWN);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_unqualified_without_domain),
		cmocka_unit_test(test_too_long),
		cmocka_unit_test(test_mail_params),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
