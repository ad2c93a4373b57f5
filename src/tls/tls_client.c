/*
 * Client configuration: trust anchors from a PEM bundle (or a pin, see
 * tls_pin.c) and the last session, kept for resumption.
 */
#include <stdlib.h>
#include <string.h>

#include "tls/tls_priv.h"

/* The client offers every suite the server side could pick. */
static const uint16_t client_suites[] = {
	BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	BR_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
	BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	BR_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	BR_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	BR_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
};

struct tls_client_config {
	br_x509_trust_anchor *anchors; /* each dn.data owns its key too */
	size_t anchors_len;
	int pinned;
	uint8_t pin[32];
	/* One session: postlet relays to one upstream server. */
	br_ssl_session_parameters session;
	char session_name[256];
	int has_session;
};

/* Growing buffer for a certificate's subject DN. */
struct dn_buf {
	unsigned char *data;
	size_t len, cap;
	int oom;
};

static void
dn_append(void *ctx, const void *data, size_t len)
{
	struct dn_buf *d = ctx;

	if (d->oom)
		return;
	if (d->len + len > d->cap) {
		size_t cap = (d->len + len) * 2;
		unsigned char *p = realloc(d->data, cap);

		if (p == NULL) {
			d->oom = 1;
			return;
		}
		d->data = p;
		d->cap = cap;
	}
	memcpy(d->data + d->len, data, len);
	d->len += len;
}

/*
 * Copy the public key behind the DN bytes in the one block that holds
 * both, so that freeing dn.data frees the anchor.
 */
static int
anchor_fill(br_x509_trust_anchor *ta, struct dn_buf *d, const br_x509_pkey *pk)
{
	size_t a, b;
	unsigned char *p;

	if (pk->key_type == BR_KEYTYPE_RSA) {
		a = pk->key.rsa.nlen;
		b = pk->key.rsa.elen;
	} else {
		a = pk->key.ec.qlen;
		b = 0;
	}
	p = realloc(d->data, d->len + a + b + 1);
	if (p == NULL)
		return -1;
	d->data = p;
	ta->dn.data = p;
	ta->dn.len = d->len;
	ta->pkey = *pk;
	p += d->len;
	if (pk->key_type == BR_KEYTYPE_RSA) {
		memcpy(p, pk->key.rsa.n, a);
		memcpy(p + a, pk->key.rsa.e, b);
		ta->pkey.key.rsa.n = p;
		ta->pkey.key.rsa.e = p + a;
	} else {
		memcpy(p, pk->key.ec.q, a);
		ta->pkey.key.ec.q = p;
	}
	return 0;
}

static int
anchor_add(void *ctx, const char *name, const unsigned char *der, size_t len,
	char *err, size_t errlen)
{
	struct tls_client_config *cfg = ctx;
	br_x509_decoder_context dec;
	struct dn_buf d = {NULL, 0, 0, 0};
	br_x509_trust_anchor *tas, *ta;
	const br_x509_pkey *pk;

	(void)err;
	(void)errlen;
	if (strcmp(name, "CERTIFICATE") != 0 &&
		strcmp(name, "X509 CERTIFICATE") != 0)
		return 0;
	br_x509_decoder_init(&dec, dn_append, &d);
	br_x509_decoder_push(&dec, der, len);
	pk = br_x509_decoder_get_pkey(&dec);
	tas = realloc(cfg->anchors, (cfg->anchors_len + 1) * sizeof(*tas));
	if (tas != NULL)
		cfg->anchors = tas;
	/* A bundle may hold certificates BearSSL cannot use: skip them. */
	if (pk == NULL || d.oom || tas == NULL) {
		free(d.data);
		return tas == NULL ? -1 : 0;
	}
	ta = &tas[cfg->anchors_len];
	ta->flags = br_x509_decoder_isCA(&dec) ? BR_X509_TA_CA : 0;
	if (anchor_fill(ta, &d, pk) != 0) {
		free(d.data);
		return -1;
	}
	cfg->anchors_len++;
	return 0;
}

struct tls_client_config *
tls_client_config_load_ca(const char *ca_path, char *err, size_t errlen)
{
	struct tls_client_config *cfg = calloc(1, sizeof(*cfg));

	if (cfg == NULL) {
		tls_errf(err, errlen, ca_path, "out of memory");
		return NULL;
	}
	if (tls_pem_each(ca_path, anchor_add, cfg, err, errlen) < 0)
		goto fail;
	if (cfg->anchors_len == 0) {
		tls_errf(err, errlen, ca_path, "no usable certificate");
		goto fail;
	}
	return cfg;
fail:
	tls_client_config_free(cfg);
	return NULL;
}

struct tls_client_config *
tls_client_config_pin(const uint8_t sha256[32])
{
	struct tls_client_config *cfg = calloc(1, sizeof(*cfg));

	if (cfg == NULL)
		return NULL;
	cfg->pinned = 1;
	memcpy(cfg->pin, sha256, sizeof(cfg->pin));
	return cfg;
}

void
tls_client_config_free(struct tls_client_config *cfg)
{
	size_t i;

	if (cfg == NULL)
		return;
	for (i = 0; i < cfg->anchors_len; i++)
		free(cfg->anchors[i].dn.data);
	free(cfg->anchors);
	explicit_bzero(cfg, sizeof(*cfg));
	free(cfg);
}

static void
setup_minimal(struct tls_client_config *cfg, struct tls_conn *tc)
{
	br_x509_minimal_context *xc = &tc->x509.minimal;

	br_x509_minimal_init(
		xc, &br_sha256_vtable, cfg->anchors, cfg->anchors_len);
	br_x509_minimal_set_hash(xc, br_sha256_ID, &br_sha256_vtable);
	br_x509_minimal_set_hash(xc, br_sha384_ID, &br_sha384_vtable);
	br_x509_minimal_set_hash(xc, br_sha512_ID, &br_sha512_vtable);
	br_x509_minimal_set_rsa(xc, br_rsa_i31_pkcs1_vrfy);
	br_x509_minimal_set_ecdsa(xc, &br_ec_all_m31, br_ecdsa_i31_vrfy_asn1);
	br_ssl_engine_set_x509(tc->eng, &xc->vtable);
}

/* Offer the kept session if it was made with the same server name. */
static int
offer_session(struct tls_client_config *cfg, const char *server_name)
{
	const char *name = server_name != NULL ? server_name : "";

	if (!cfg->has_session || strcmp(cfg->session_name, name) != 0)
		return 0;
	return 1;
}

static void
client_setup(struct tls_client_config *cfg, struct tls_conn *tc)
{
	br_ssl_client_context *cc = &tc->ssl.client;

	br_ssl_client_zero(cc);
	tc->eng = &cc->eng;
	tls_engine_profile(tc->eng, client_suites,
		sizeof(client_suites) / sizeof(client_suites[0]));
	br_ssl_engine_set_rsavrfy(tc->eng, br_rsa_i31_pkcs1_vrfy);
	br_ssl_engine_set_ecdsa(tc->eng, br_ecdsa_i31_vrfy_asn1);
	br_ssl_engine_set_all_flags(tc->eng, BR_OPT_NO_RENEGOTIATION);
	if (cfg->pinned)
		tls_pin_setup(tc, cfg->pin);
	else
		setup_minimal(cfg, tc);
	tc->cfg = cfg;
}

err_t
tls_client_wrap(struct altcp_pcb *inner, struct tls_client_config *cfg,
	const char *server_name, struct tls_conn *tc, unsigned char *buf,
	size_t buflen, struct altcp_pcb **out)
{
	int resume;

	if (inner == NULL || cfg == NULL || tc == NULL || buf == NULL ||
		out == NULL || buflen < TLS_CONN_BUFSIZE(512))
		return ERR_ARG;
	memset(tc, 0, sizeof(*tc));
	client_setup(cfg, tc);
	tc->flags |= TC_CLIENT;
	if (tls_engine_buffers(tc->eng, buf, buflen) != 0)
		return ERR_ARG;
	resume = offer_session(cfg, server_name);
	if (resume)
		br_ssl_engine_set_session_parameters(tc->eng, &cfg->session);
	if (!br_ssl_client_reset(&tc->ssl.client, server_name, resume))
		return ERR_ARG;
	return tls_altcp_attach(tc, inner, out);
}

void
tls_client_done(struct tls_conn *tc)
{
	struct tls_client_config *cfg = tc->cfg;
	br_ssl_session_parameters now;
	const char *name = br_ssl_engine_get_server_name(tc->eng);

	br_ssl_engine_get_session_parameters(tc->eng, &now);
	/* Our session ID came back: the server resumed (RFC 5246 7.4.1.3). */
	if (cfg->has_session && now.session_id_len > 0 &&
		now.session_id_len == cfg->session.session_id_len &&
		memcmp(now.session_id, cfg->session.session_id,
			now.session_id_len) == 0)
		tc->flags |= TC_RESUMED;
	if (strlen(name) >= sizeof(cfg->session_name))
		return;
	cfg->session = now;
	memcpy(cfg->session_name, name, strlen(name) + 1);
	cfg->has_session = now.session_id_len > 0;
}
