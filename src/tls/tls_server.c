/*
 * Server configuration: certificate chain, private key, session cache,
 * made once at start-up and shared by every connection.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tls/tls_priv.h"

/* Bytes of the session cache per entry (BearSSL's LRU entry size). */
#define CACHE_ENTRY_SIZE 100
#define CHAIN_MAX 8
#define SUBJECT_MAX 256

/*
 * ChaCha20 first, and the server's order wins: a router has no AES
 * instructions, and constant-time software AES costs it several times
 * what ChaCha20 does, while both are equally strong for the client.
 */
static const uint16_t suites_ec[] = {
	BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	BR_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
};
static const uint16_t suites_rsa[] = {
	BR_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
	BR_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	BR_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
};

/*
 * The LRU cache, wrapped so that a load that finds the session marks the
 * connection as resumed; BearSSL does not report that otherwise.
 */
struct tls_cache {
	const br_ssl_session_cache_class *vtable;
	br_ssl_session_cache_lru lru;
};

struct tls_server_config {
	br_x509_certificate chain[CHAIN_MAX];
	size_t chain_len;
	br_skey_decoder_context key; /* holds the key's bytes too */
	struct tls_cache cache;
	unsigned char *cache_mem;
	/* For tls_server_config_describe(). */
	unsigned char subject[SUBJECT_MAX];
	size_t subject_len;
	uint32_t notafter_days, notafter_seconds;
	unsigned key_bits;
};

static void
cache_save(const br_ssl_session_cache_class **ctx, br_ssl_server_context *sc,
	const br_ssl_session_parameters *params)
{
	struct tls_cache *c = (struct tls_cache *)(void *)ctx;

	c->lru.vtable->save(&c->lru.vtable, sc, params);
}

static int
cache_load(const br_ssl_session_cache_class **ctx, br_ssl_server_context *sc,
	br_ssl_session_parameters *params)
{
	struct tls_cache *c = (struct tls_cache *)(void *)ctx;
	int found = c->lru.vtable->load(&c->lru.vtable, sc, params);

	/* sc is the first member of its struct tls_conn. */
	if (found)
		((struct tls_conn *)(void *)sc)->flags |= TC_RESUMED;
	return found;
}

static const br_ssl_session_cache_class cache_class = {
	.context_size = sizeof(struct tls_cache),
	.save = cache_save,
	.load = cache_load,
};

static void
subject_append(void *ctx, const void *data, size_t len)
{
	struct tls_server_config *cfg = ctx;
	size_t room = sizeof(cfg->subject) - cfg->subject_len;

	/* Only the CN is shown; a cut-off DN merely loses it. */
	if (len > room)
		len = room;
	memcpy(cfg->subject + cfg->subject_len, data, len);
	cfg->subject_len += len;
}

static int
chain_add(void *ctx, const char *name, const unsigned char *der, size_t len,
	char *err, size_t errlen)
{
	struct tls_server_config *cfg = ctx;
	br_x509_certificate *c;

	(void)err;
	(void)errlen;
	if (strcmp(name, "CERTIFICATE") != 0 &&
		strcmp(name, "X509 CERTIFICATE") != 0)
		return 0;
	if (cfg->chain_len == CHAIN_MAX)
		return 0; /* longer chains are not sent anyway */
	c = &cfg->chain[cfg->chain_len];
	c->data = malloc(len);
	if (c->data == NULL)
		return -1;
	memcpy(c->data, der, len);
	c->data_len = len;
	cfg->chain_len++;
	return 0;
}

static int
key_add(void *ctx, const char *name, const unsigned char *der, size_t len,
	char *err, size_t errlen)
{
	struct tls_server_config *cfg = ctx;

	(void)err;
	(void)errlen;
	if (strcmp(name, "EC PRIVATE KEY") != 0 &&
		strcmp(name, "RSA PRIVATE KEY") != 0 &&
		strcmp(name, "PRIVATE KEY") != 0)
		return 0;
	if (br_skey_decoder_key_type(&cfg->key) != 0)
		return 0; /* the first key counts */
	br_skey_decoder_push(&cfg->key, der, len);
	return 0;
}

static int
ec_matches(const br_ec_private_key *sk, const br_x509_pkey *pk)
{
	unsigned char buf[BR_EC_KBUF_PUB_MAX_SIZE];
	br_ec_public_key pub;

	if (pk->key_type != BR_KEYTYPE_EC || pk->key.ec.curve != sk->curve)
		return 0;
	if (br_ec_compute_pub(&br_ec_all_m31, &pub, buf, sk) == 0)
		return 0;
	return pub.qlen == pk->key.ec.qlen &&
		memcmp(pub.q, pk->key.ec.q, pub.qlen) == 0;
}

/* Big-endian numbers may carry leading zeros; compare without them. */
static int
same_number(const unsigned char *a, size_t alen, const unsigned char *b,
	size_t blen)
{
	while (alen > 0 && *a == 0) {
		a++;
		alen--;
	}
	while (blen > 0 && *b == 0) {
		b++;
		blen--;
	}
	return alen == blen && memcmp(a, b, alen) == 0;
}

/*
 * The modulus settles it: br_rsa_*_compute_pubexp only works when p and
 * q are 3 mod 4, which OpenSSL's keys need not be.
 */
static int
rsa_matches(
	const br_rsa_private_key *sk, const br_x509_pkey *pk, unsigned *bits)
{
	unsigned char n[512];
	size_t nlen;

	if (pk->key_type != BR_KEYTYPE_RSA ||
		(sk->n_bitlen + 7) / 8 > sizeof(n))
		return 0;
	nlen = br_rsa_i31_compute_modulus(n, sk);
	*bits = sk->n_bitlen;
	return nlen != 0 &&
		same_number(n, nlen, pk->key.rsa.n, pk->key.rsa.nlen);
}

static unsigned
curve_bits(int curve)
{
	switch (curve) {
	case BR_EC_secp256r1:
		return 256;
	case BR_EC_secp384r1:
		return 384;
	case BR_EC_secp521r1:
		return 521;
	}
	return 0;
}

/* Decode the leaf, keep what describe shows, check the key is its own. */
static int
check_leaf(struct tls_server_config *cfg, const char *key_path, char *err,
	size_t errlen)
{
	br_x509_decoder_context dec;
	const br_x509_pkey *pk;
	int type = br_skey_decoder_key_type(&cfg->key), ok;

	br_x509_decoder_init(&dec, subject_append, cfg);
	br_x509_decoder_push(&dec, cfg->chain[0].data, cfg->chain[0].data_len);
	pk = br_x509_decoder_get_pkey(&dec);
	if (pk == NULL)
		return tls_errf(
			err, errlen, key_path, "certificate cannot be decoded");
	cfg->notafter_days = dec.notafter_days;
	cfg->notafter_seconds = dec.notafter_seconds;
	if (type == BR_KEYTYPE_EC) {
		const br_ec_private_key *sk = br_skey_decoder_get_ec(&cfg->key);

		ok = ec_matches(sk, pk);
		cfg->key_bits = curve_bits(sk->curve);
	} else {
		ok = rsa_matches(
			br_skey_decoder_get_rsa(&cfg->key), pk, &cfg->key_bits);
	}
	if (!ok)
		return tls_errf(err, errlen, key_path,
			"private key does not match certificate");
	return 0;
}

static int
load_key(struct tls_server_config *cfg, const char *path, char *err,
	size_t errlen)
{
	int type;

	br_skey_decoder_init(&cfg->key);
	if (tls_pem_each(path, key_add, cfg, err, errlen) < 0)
		return -1;
	type = br_skey_decoder_key_type(&cfg->key);
	if (type == 0 && br_skey_decoder_last_error(&cfg->key) != 0)
		return tls_errf(err, errlen, path, "malformed private key");
	if (type == 0)
		return tls_errf(err, errlen, path, "no private key found");
	if (type == BR_KEYTYPE_EC &&
		curve_bits(br_skey_decoder_get_ec(&cfg->key)->curve) == 0)
		return tls_errf(err, errlen, path, "unsupported EC curve");
	return 0;
}

static int
setup_cache(struct tls_server_config *cfg, unsigned entries, char *err,
	size_t errlen)
{
	size_t size = (size_t)entries * CACHE_ENTRY_SIZE;

	if (entries == 0)
		return 0;
	cfg->cache_mem = malloc(size);
	if (cfg->cache_mem == NULL)
		return tls_errf(err, errlen, "session cache", "out of memory");
	cfg->cache.vtable = &cache_class;
	br_ssl_session_cache_lru_init(&cfg->cache.lru, cfg->cache_mem, size);
	return 0;
}

struct tls_server_config *
tls_server_config_load(const char *cert_path, const char *key_path,
	unsigned cache_entries, char *err, size_t errlen)
{
	struct tls_server_config *cfg = calloc(1, sizeof(*cfg));

	if (cfg == NULL) {
		tls_errf(err, errlen, cert_path, "out of memory");
		return NULL;
	}
	if (tls_pem_each(cert_path, chain_add, cfg, err, errlen) < 0)
		goto fail;
	if (cfg->chain_len == 0) {
		tls_errf(err, errlen, cert_path, "no certificate found");
		goto fail;
	}
	if (load_key(cfg, key_path, err, errlen) != 0 ||
		check_leaf(cfg, key_path, err, errlen) != 0 ||
		setup_cache(cfg, cache_entries, err, errlen) != 0)
		goto fail;
	return cfg;
fail:
	tls_server_config_free(cfg);
	return NULL;
}

void
tls_server_config_free(struct tls_server_config *cfg)
{
	size_t i;

	if (cfg == NULL)
		return;
	for (i = 0; i < cfg->chain_len; i++)
		free(cfg->chain[i].data);
	free(cfg->cache_mem);
	explicit_bzero(cfg, sizeof(*cfg));
	free(cfg);
}

static void
server_setup(struct tls_server_config *cfg, struct tls_conn *tc)
{
	br_ssl_server_context *sc = &tc->ssl.server;
	br_ssl_engine_context *eng = &sc->eng;

	br_ssl_server_zero(sc);
	if (br_skey_decoder_key_type(&cfg->key) == BR_KEYTYPE_EC) {
		tls_engine_profile(eng, suites_ec, 3);
		br_ssl_server_set_single_ec(sc, cfg->chain, cfg->chain_len,
			br_skey_decoder_get_ec(&cfg->key), BR_KEYTYPE_SIGN,
			BR_KEYTYPE_EC, &br_ec_all_m31, br_ecdsa_i31_sign_asn1);
	} else {
		tls_engine_profile(eng, suites_rsa, 3);
		br_ssl_server_set_single_rsa(sc, cfg->chain, cfg->chain_len,
			br_skey_decoder_get_rsa(&cfg->key), BR_KEYTYPE_SIGN,
			br_rsa_i31_private, br_rsa_i31_pkcs1_sign);
	}
	br_ssl_engine_set_all_flags(eng,
		BR_OPT_ENFORCE_SERVER_PREFERENCES | BR_OPT_NO_RENEGOTIATION);
	if (cfg->cache_mem != NULL)
		br_ssl_server_set_cache(sc, &cfg->cache.vtable);
	tc->eng = eng;
	tc->cfg = cfg;
}

err_t
tls_server_wrap(struct altcp_pcb *inner, struct tls_server_config *cfg,
	struct tls_conn *tc, unsigned char *buf, size_t buflen,
	struct altcp_pcb **out)
{
	if (inner == NULL || cfg == NULL || tc == NULL || buf == NULL ||
		out == NULL || buflen < TLS_CONN_BUFSIZE(512))
		return ERR_ARG;
	memset(tc, 0, sizeof(*tc));
	server_setup(cfg, tc);
	if (tls_engine_buffers(tc->eng, buf, buflen) != 0 ||
		!br_ssl_server_reset(&tc->ssl.server))
		return ERR_ARG;
	return tls_altcp_attach(tc, inner, out);
}

/* The value of the CN attribute (OID 2.5.4.3) in a DER Name, or "". */
static void
subject_cn(const struct tls_server_config *cfg, char *out, size_t len)
{
	static const unsigned char oid[] = {0x06, 0x03, 0x55, 0x04, 0x03};
	const unsigned char *p = cfg->subject;
	size_t i, n;

	out[0] = '\0';
	for (i = 0; i + sizeof(oid) + 2 <= cfg->subject_len; i++) {
		if (memcmp(p + i, oid, sizeof(oid)) != 0)
			continue;
		/* The value follows: a string type, a short length. */
		i += sizeof(oid);
		n = p[i + 1];
		if (n >= 0x80 || i + 2 + n > cfg->subject_len || n >= len)
			return;
		memcpy(out, p + i + 2, n);
		out[n] = '\0';
		return;
	}
}

int
tls_server_config_describe(
	const struct tls_server_config *cfg, char *buf, size_t len)
{
	/* BearSSL counts days from 1 January of year 0; 1970 is day 719528. */
	time_t t = (time_t)(cfg->notafter_days - 719528) * 86400 +
		cfg->notafter_seconds;
	char cn[65], date[16];
	struct tm tm;
	int n;

	subject_cn(cfg, cn, sizeof(cn));
	if (gmtime_r(&t, &tm) == NULL ||
		strftime(date, sizeof(date), "%Y-%m-%d", &tm) == 0)
		date[0] = '\0';
	n = snprintf(buf, len, "%s %u key, CN=%s, expires %s",
		br_skey_decoder_key_type(&cfg->key) == BR_KEYTYPE_EC ? "EC"
								     : "RSA",
		cfg->key_bits, cn, date);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}
