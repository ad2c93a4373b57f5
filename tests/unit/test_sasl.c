/* base64 and the SASL PLAIN and LOGIN decoders: known answers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base64.h"
#include "smtp/sasl.h"

/* RFC 4648 10 test vectors. */
static const char *const vectors[][2] = {
	{"", ""},
	{"f", "Zg=="},
	{"fo", "Zm8="},
	{"foo", "Zm9v"},
	{"foob", "Zm9vYg=="},
	{"fooba", "Zm9vYmE="},
	{"foobar", "Zm9vYmFy"},
};

static void
test_base64_vectors(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		unsigned char dec[16];
		char enc[16];
		const char *plain = vectors[i][0], *b64 = vectors[i][1];

		assert_int_equal(
			base64_decode(b64, strlen(b64), dec, sizeof(dec)),
			(long)strlen(plain));
		assert_memory_equal(dec, plain, strlen(plain));
		assert_int_equal(base64_encode((const unsigned char *)plain,
					 strlen(plain), enc, sizeof(enc)),
			(long)strlen(b64));
		assert_string_equal(enc, b64);
	}
}

static void
test_base64_refuses(void **state)
{
	static const char *const bad[] = {"Zg",
		"Zg=", "Z===", "Zg==Zg==", "Zm9v YmFy", "Zm9\x80", "=Zm9",
		"Zm=v"};
	unsigned char dec[16];
	char enc[4];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(
			base64_decode(bad[i], strlen(bad[i]), dec, sizeof(dec)),
			-1);
	/* Output bounds hold both ways. */
	assert_int_equal(base64_decode("Zm9vYmFy", 8, dec, 5), -1);
	assert_int_equal(base64_encode((const unsigned char *)"foo", 3, enc,
				 sizeof(enc)),
		-1);
}

static void
b64(const char *plain, size_t len, char *out, size_t cap)
{
	assert_true(base64_encode(
			    (const unsigned char *)plain, len, out, cap) >= 0);
}

static void
test_plain(void **state)
{
	struct sasl_creds c;
	char enc[128];

	(void)state;
	b64("\0alice\0s3cret", 13, enc, sizeof(enc));
	assert_int_equal(sasl_plain_decode(enc, strlen(enc), &c), SASL_OK);
	assert_string_equal(c.name, "alice");
	assert_int_equal(c.namelen, 5);
	assert_string_equal(c.pass, "s3cret");
	/* The same identity as authorization identity is fine. */
	b64("alice\0alice\0pw", 14, enc, sizeof(enc));
	assert_int_equal(sasl_plain_decode(enc, strlen(enc), &c), SASL_OK);
	/* Acting as another user is not. */
	b64("bob\0alice\0pw", 12, enc, sizeof(enc));
	assert_int_equal(
		sasl_plain_decode(enc, strlen(enc), &c), SASL_ERR_AUTHZ);
	assert_int_equal(c.namelen, 0);
	b64("\0alice", 6, enc, sizeof(enc));
	assert_int_equal(
		sasl_plain_decode(enc, strlen(enc), &c), SASL_ERR_FORMAT);
	b64("\0\0pw", 4, enc, sizeof(enc));
	assert_int_equal(
		sasl_plain_decode(enc, strlen(enc), &c), SASL_ERR_FORMAT);
	b64("\0alice\0", 7, enc, sizeof(enc));
	assert_int_equal(
		sasl_plain_decode(enc, strlen(enc), &c), SASL_ERR_FORMAT);
	b64("\0alice\0p\0w", 10, enc, sizeof(enc));
	assert_int_equal(
		sasl_plain_decode(enc, strlen(enc), &c), SASL_ERR_FORMAT);
	assert_int_equal(sasl_plain_decode("!!!!", 4, &c), SASL_ERR_BASE64);
}

static void
test_login(void **state)
{
	char buf[16];
	size_t n = 0;

	(void)state;
	assert_int_equal(sasl_login_decode("YWxpY2U=", 8, buf, sizeof(buf), &n),
		SASL_OK);
	assert_string_equal(buf, "alice");
	assert_int_equal(n, 5);
	assert_int_equal(sasl_login_decode("", 0, buf, sizeof(buf), &n),
		SASL_ERR_FORMAT);
	assert_int_equal(sasl_login_decode("YQBi", 4, buf, sizeof(buf), &n),
		SASL_ERR_FORMAT);
	assert_int_equal(sasl_login_decode("YWxpY2U", 7, buf, sizeof(buf), &n),
		SASL_ERR_BASE64);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base64_vectors),
		cmocka_unit_test(test_base64_refuses),
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_login),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
