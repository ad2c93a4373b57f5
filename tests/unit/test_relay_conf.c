/* The relay directives: URL known answers, errors, credentials files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "relay/relay_conf.h"
#include "testfile.h"
#include "tls/tls.h"

#define PKI(f) PKI_DIR "/" f

static void
test_url_known_answers(void **state)
{
	static const struct {
		const char *url;
		enum relay_tls tls;
		int srv, literal;
		const char *host;
		unsigned port;
	} cases[] = {
		{"smtps://smtp.example.org", RELAY_TLS_IMPLICIT, 0, 0,
			"smtp.example.org", 465},
		{"smtps://smtp.example.org:2465", RELAY_TLS_IMPLICIT, 0, 0,
			"smtp.example.org", 2465},
		{"smtp://smtp.example.org", RELAY_TLS_STARTTLS, 0, 0,
			"smtp.example.org", 587},
		{"SMTP://Mail.Example.org:25/", RELAY_TLS_STARTTLS, 0, 0,
			"Mail.Example.org", 25},
		{"smtps://192.0.2.7", RELAY_TLS_IMPLICIT, 0, 1, "192.0.2.7",
			465},
		{"smtp://[2001:db8::25]:587", RELAY_TLS_STARTTLS, 0, 1,
			"2001:db8::25", 587},
		{"smtp+plain://127.0.0.1:2525", RELAY_TLS_NONE, 0, 1,
			"127.0.0.1", 2525},
		{"smtp+plain://127.1.2.3:25", RELAY_TLS_NONE, 0, 1, "127.1.2.3",
			25},
		{"smtp+plain://[::1]:10025", RELAY_TLS_NONE, 0, 1, "::1",
			10025},
		{"example.org", RELAY_TLS_IMPLICIT, 1, 0, "example.org", 0},
	};
	struct relay_conf rc;
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&rc, 0, sizeof(rc));
		if (relay_conf_url(&rc, cases[i].url, err, sizeof(err)) != 0)
			fail_msg("%s: %s", cases[i].url, err);
		assert_int_equal(rc.tls, cases[i].tls);
		assert_int_equal(rc.srv, cases[i].srv);
		assert_int_equal(rc.is_literal, cases[i].literal);
		assert_string_equal(rc.host, cases[i].host);
		assert_int_equal(rc.port, cases[i].port);
	}
}

static void
test_url_errors(void **state)
{
	static const struct {
		const char *url, *why;
	} cases[] = {
		{"", "want smtps://"},
		{"smtp+plain://192.0.2.7:25", "only for a loopback"},
		{"smtp+plain://localhost:25", "only for a loopback"},
		{"smtp+plain://127.0.0.1", "needs a port"},
		{"smtp://h:0", "port must be 1 to 65535"},
		{"smtp://h:65536", "port must be 1 to 65535"},
		{"smtp://h:025", "port must be 1 to 65535"},
		{"smtp://h:", "port must be 1 to 65535"},
		{"smtp://h:25x", "port must be 1 to 65535"},
		{"smtp://user:pw@h", "relay_credentials"},
		{"smtp://h/path", "no path"},
		{"http://h", "scheme must be"},
		{"smtp://", "host must be"},
		{"smtp://-h.example", "host must be"},
		{"smtp://h..example", "host must be"},
		{"smtp://h_x.example", "host must be"},
		{"smtp://256.1.1.1", "host must be"},
		{"smtp://127.1", "host must be"},
		{"smtp://01.2.3.4", "host must be"},
		{"smtp://[::1", "host must be"},
		{"smtp://[192.0.2.1]", "host must be"},
		{"smtp://[fe80::1%eth0]", "host must be"},
		{"smtp://h x", "spaces"},
		{"192.0.2.7", "want smtps://"},
		{"example.org:587", "want smtps://"},
	};
	struct relay_conf rc;
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&rc, 0, sizeof(rc));
		if (relay_conf_url(&rc, cases[i].url, err, sizeof(err)) == 0)
			fail_msg("%s: accepted", cases[i].url);
		if (strstr(err, cases[i].why) == NULL)
			fail_msg("%s: '%s' lacks '%s'", cases[i].url, err,
				cases[i].why);
		assert_int_equal(strncmp(err, "relay: '", 8), 0);
	}
}

/* A file with these bytes and mode; its path in path. */
static void
file_make(char *path, size_t len, const char *bytes, mode_t mode)
{
	testfile_make(path, len, bytes, strlen(bytes), mode);
}

static void
test_credentials(void **state)
{
	static const struct {
		const char *bytes;
		const char *user, *password;
	} good[] = {
		{"alice:s3cret\n", "alice", "s3cret"},
		{"alice:a:b:c\r\n", "alice", "a:b:c"},
		{"bob@example.org:pw", "bob@example.org", "pw"},
	};
	struct relay_conf rc;
	char path[64], err[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		memset(&rc, 0, sizeof(rc));
		file_make(path, sizeof(path), good[i].bytes, 0600);
		if (relay_conf_credentials(&rc, path, err, sizeof(err)) != 0)
			fail_msg("%s", err);
		assert_true(rc.has_credentials);
		assert_string_equal(rc.user, good[i].user);
		assert_string_equal(rc.password, good[i].password);
		relay_conf_wipe(&rc);
		assert_string_equal(rc.password, "");
		unlink(path);
	}
}

static void
test_credentials_refused(void **state)
{
	static const struct {
		const char *bytes;
		mode_t mode;
		const char *why;
	} bad[] = {
		{"alice:pw\n", 0640, ": readable by others; chmod 600"},
		{"alice:pw\n", 0604, ": readable by others; chmod 600"},
		{"alice:pw\n", 0620, ": writable by others; chmod 600"},
		{"", 0600, ": want username:password"},
		{"alice\n", 0600, ": want username:password"},
		{":pw\n", 0600, ": username and password must not be empty"},
		{"alice:\n", 0600, ": username and password must not be empty"},
		{"alice:pw\nbob:pw\n", 0600, ": want one line"},
		{"alice:pw\n\n", 0600, ": want one line"},
	};
	struct relay_conf rc;
	char path[64], err[256], want[320];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&rc, 0, sizeof(rc));
		file_make(path, sizeof(path), bad[i].bytes, bad[i].mode);
		assert_int_equal(
			relay_conf_credentials(&rc, path, err, sizeof(err)),
			-1);
		snprintf(want, sizeof(want), "%s%s", path, bad[i].why);
		if (strncmp(err, want, strlen(want)) != 0)
			fail_msg("case %zu: '%s', wanted '%s'", i, err, want);
		assert_false(rc.has_credentials);
		unlink(path);
	}
	assert_int_equal(relay_conf_credentials(
				 &rc, "/nonexistent/postlet", err, sizeof(err)),
		-1);
	assert_string_equal(err,
		"/nonexistent/postlet: No such file or "
		"directory");
}

static void
test_make(void **state)
{
	static const char pin[] = "sha256//AAECAwQFBgcICQoLDA0ODxAREhMUFRYX"
				  "GBkaGxwdHh8=";
	struct relay_conf rc;
	struct tls_client_config *tls;
	char err[256];

	(void)state;
	assert_int_equal(relay_conf_make(&rc, "smtps://mail.test", NULL,
				 PKI("ca.pem"), NULL, err, sizeof(err)),
		0);
	assert_string_equal(rc.ca_path, PKI("ca.pem"));
	assert_int_equal(relay_conf_tls(&rc, &tls, err, sizeof(err)), 0);
	assert_non_null(tls);
	tls_client_config_free(tls);

	assert_int_equal(relay_conf_make(&rc, "smtps://192.0.2.7", NULL, NULL,
				 pin, err, sizeof(err)),
		0);
	assert_true(rc.pinned);
	assert_int_equal(rc.pin[31], 31);

	assert_int_equal(relay_conf_make(&rc, "smtp+plain://127.0.0.1:25", "",
				 "", "", err, sizeof(err)),
		0);
	assert_int_equal(relay_conf_tls(&rc, &tls, err, sizeof(err)), 0);
	assert_null(tls);

	assert_int_equal(relay_conf_make(&rc, "smtps://192.0.2.7", NULL,
				 PKI("ca.pem"), NULL, err, sizeof(err)),
		-1);
	assert_non_null(strstr(err, "use a host name or relay_pin"));
	/* Neither relay_ca nor relay_pin: the system's bundle. */
	assert_int_equal(relay_conf_make(&rc, "smtp://mail.test", NULL, NULL,
				 NULL, err, sizeof(err)),
		0);
	assert_string_equal(rc.ca_path, RELAY_CA_DEFAULT);
	assert_int_equal(relay_conf_make(&rc, "smtps://[2001:db8::1]", NULL,
				 NULL, NULL, err, sizeof(err)),
		-1);
	assert_non_null(strstr(err, "use a host name or relay_pin"));
	assert_int_equal(relay_conf_make(&rc, "smtp://mail.test", NULL,
				 PKI("ca.pem"), pin, err, sizeof(err)),
		-1);
	assert_string_equal(err, "relay_ca and relay_pin: give one");
	assert_int_equal(relay_conf_make(&rc, "smtp://mail.test", NULL, NULL,
				 "abc", err, sizeof(err)),
		-1);
	assert_non_null(strstr(err, "relay_pin: want 64 hex digits"));
	assert_int_equal(
		relay_conf_make(&rc, NULL, NULL, NULL, NULL, err, sizeof(err)),
		-1);
	assert_string_equal(err, "relay: not configured");
}

int
main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_url_known_answers),
		cmocka_unit_test(test_url_errors),
		cmocka_unit_test(test_credentials),
		cmocka_unit_test(test_credentials_refused),
		cmocka_unit_test(test_make),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
