/*
 * Pin mode: an X.509 engine that trusts the server's end-entity
 * certificate when the SHA-256 of its DER SubjectPublicKeyInfo equals a
 * configured pin, the same value `openssl pkey -pubin -outform der |
 * sha256sum` prints. Chain, names and dates are not looked at.
 *
 * The certificate arrives in pieces, so a small DER walker follows it
 * byte by byte: into Certificate, into TBSCertificate, then over its
 * fields (optional [0] version, serial, signature, issuer, validity,
 * subject) to the sixth, the SubjectPublicKeyInfo, whose tag, length and
 * contents are hashed (RFC 5280 section 4.1).
 */
#include <string.h>

#include "tls/tls_priv.h"

enum { W_TAG, W_LEN, W_LENLONG, W_BODY, W_DONE, W_BAD };

/* Index of subjectPublicKeyInfo among the fields, version not counted. */
#define SPKI_FIELD 5
#define DER_SEQUENCE 0x30
#define DER_VERSION 0xA0

static void
element_done(struct tls_pin_ctx *pc)
{
	unsigned char sum[32];

	if (pc->hashing) {
		br_sha256_out(&pc->hash, sum);
		pc->match = memcmp(sum, pc->pin, sizeof(sum)) == 0;
		pc->phase = W_DONE;
		return;
	}
	if (pc->tag != DER_VERSION)
		pc->field++;
	pc->phase = W_TAG;
}

static void
header_done(struct tls_pin_ctx *pc)
{
	if (pc->depth < 2) {
		/* Certificate and TBSCertificate: step inside. */
		pc->phase = pc->tag == DER_SEQUENCE ? W_TAG : W_BAD;
		pc->depth++;
		return;
	}
	pc->phase = W_BODY;
	if (pc->remain == 0)
		element_done(pc);
}

/* Advance over n bytes, b being the first (n > 1 only inside a body). */
static void
walk_step(struct tls_pin_ctx *pc, unsigned char b, size_t n)
{
	switch (pc->phase) {
	case W_TAG:
		pc->tag = b;
		pc->phase = W_LEN;
		break;
	case W_LEN:
		if (b < 0x80) {
			pc->remain = b;
			header_done(pc);
		} else if (b == 0x80 || b > 0x84) {
			pc->phase = W_BAD; /* indefinite or absurd */
		} else {
			pc->lenbytes = b & 0x7f;
			pc->remain = 0;
			pc->phase = W_LENLONG;
		}
		break;
	case W_LENLONG:
		pc->remain = pc->remain << 8 | b;
		if (--pc->lenbytes == 0)
			header_done(pc);
		break;
	case W_BODY:
		pc->remain -= (uint32_t)n;
		if (pc->remain == 0)
			element_done(pc);
		break;
	}
}

static void
spki_walk(struct tls_pin_ctx *pc, const unsigned char *p, size_t len)
{
	while (len > 0 && pc->phase < W_DONE) {
		size_t n = 1;

		if (pc->phase == W_TAG)
			pc->hashing = pc->depth == 2 && pc->field == SPKI_FIELD;
		if (pc->phase == W_BODY && pc->remain < len)
			n = pc->remain;
		else if (pc->phase == W_BODY)
			n = len;
		if (pc->hashing)
			br_sha256_update(&pc->hash, p, n);
		walk_step(pc, *p, n);
		p += n;
		len -= n;
	}
}

static void
pin_start_chain(const br_x509_class **ctx, const char *server_name)
{
	struct tls_pin_ctx *pc = (struct tls_pin_ctx *)(void *)ctx;

	(void)server_name;
	pc->phase = W_TAG;
	pc->depth = 0;
	pc->field = 0;
	pc->hashing = 0;
	pc->certs = 0;
	pc->match = 0;
	br_sha256_init(&pc->hash);
	br_x509_decoder_init(&pc->dec, NULL, NULL);
}

static void
pin_start_cert(const br_x509_class **ctx, uint32_t length)
{
	struct tls_pin_ctx *pc = (struct tls_pin_ctx *)(void *)ctx;

	(void)length;
	if (pc->certs < 255)
		pc->certs++;
}

/* Only the leaf matters; the rest of the chain is ignored. */
static void
pin_append(const br_x509_class **ctx, const unsigned char *buf, size_t len)
{
	struct tls_pin_ctx *pc = (struct tls_pin_ctx *)(void *)ctx;

	if (pc->certs != 1)
		return;
	br_x509_decoder_push(&pc->dec, buf, len);
	spki_walk(pc, buf, len);
}

static void
pin_end_cert(const br_x509_class **ctx)
{
	(void)ctx;
}

static unsigned
pin_end_chain(const br_x509_class **ctx)
{
	struct tls_pin_ctx *pc = (struct tls_pin_ctx *)(void *)ctx;
	int err;

	if (pc->certs == 0)
		return BR_ERR_X509_EMPTY_CHAIN;
	err = br_x509_decoder_last_error(&pc->dec);
	if (err != 0)
		return (unsigned)err;
	/* Reported as TLS_ERR_PIN_MISMATCH by the layer (TC_PINNED). */
	if (!pc->match)
		return BR_ERR_X509_NOT_TRUSTED;
	return 0;
}

static const br_x509_pkey *
pin_get_pkey(const br_x509_class *const *ctx, unsigned *usages)
{
	struct tls_pin_ctx *pc = (struct tls_pin_ctx *)(void *)ctx;

	if (!pc->match)
		return NULL;
	if (usages != NULL)
		*usages = BR_KEYTYPE_KEYX | BR_KEYTYPE_SIGN;
	return br_x509_decoder_get_pkey(&pc->dec);
}

static const br_x509_class pin_class = {
	.context_size = sizeof(struct tls_pin_ctx),
	.start_chain = pin_start_chain,
	.start_cert = pin_start_cert,
	.append = pin_append,
	.end_cert = pin_end_cert,
	.end_chain = pin_end_chain,
	.get_pkey = pin_get_pkey,
};

void
tls_pin_setup(struct tls_conn *tc, const uint8_t *pin)
{
	tc->x509.pin.vtable = &pin_class;
	tc->x509.pin.pin = pin;
	tc->flags |= TC_PINNED;
	br_ssl_engine_set_x509(tc->eng, &tc->x509.pin.vtable);
}

static int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int
b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

static int
parse_hex(const char *s, uint8_t out[32])
{
	size_t i;

	for (i = 0; i < 32; i++) {
		int hi = hex_value(s[2 * i]), lo;

		if (hi < 0)
			return -1;
		lo = hex_value(s[2 * i + 1]);
		if (lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return s[64] == '\0' ? 0 : -1;
}

/* 32 bytes are 43 base64 digits, the last carrying 2 bits, and one '='. */
static int
parse_b64(const char *s, uint8_t out[32])
{
	uint32_t acc = 0;
	size_t i, n = 0;

	for (i = 0; i < 43; i++) {
		int v = b64_value(s[i]);

		if (v < 0)
			return -1;
		acc = acc << 6 | (uint32_t)v;
		if (i % 4 == 3) {
			out[n++] = (uint8_t)(acc >> 16);
			out[n++] = (uint8_t)(acc >> 8);
			out[n++] = (uint8_t)acc;
			acc = 0;
		}
	}
	/* 40 digits made 30 bytes; three more hold 16 bits and 2 zeros. */
	if (acc & 3)
		return -1;
	out[30] = (uint8_t)(acc >> 10);
	out[31] = (uint8_t)(acc >> 2);
	if (s[43] == '=')
		s++;
	return s[43] == '\0' ? 0 : -1;
}

int
tls_pin_parse(const char *s, uint8_t out[32])
{
	static const char prefix[] = "sha256//";
	uint8_t tmp[32];
	int r;

	if (strncmp(s, prefix, sizeof(prefix) - 1) == 0)
		r = parse_b64(s + sizeof(prefix) - 1, tmp);
	else
		r = parse_hex(s, tmp);
	if (r == 0)
		memcpy(out, tmp, sizeof(tmp));
	return r;
}
