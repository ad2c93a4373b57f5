################################################################################
#
# postlet
#
################################################################################

# postlet has no release tarball yet: the site is a placeholder for the
# published repository and the version a tag or commit in it. To build a
# local checkout instead, set POSTLET_OVERRIDE_SRCDIR (firmware/README.md).
POSTLET_VERSION = 0.1.0
POSTLET_SITE = https://example.invalid/postlet.git
POSTLET_SITE_METHOD = git
# No hash for a tarball made from git; drop this with the first release.
BR_NO_CHECK_HASH_FOR += $(POSTLET_SOURCE)
POSTLET_LICENSE = ISC
POSTLET_LICENSE_FILES = LICENSE

# lwIP and BearSSL: the pinned Debian sources of postlet's mk/deps.mk,
# fetched in Buildroot's download step and checked against postlet.hash,
# so that postlet's own build fetches nothing.
POSTLET_LWIP_SOURCE = lwip_2.1.3+dfsg1.orig.tar.xz
POSTLET_BEARSSL_SOURCE = bearssl_0.6+dfsg.1.orig.tar.xz
POSTLET_EXTRA_DOWNLOADS = \
	https://deb.debian.org/debian/pool/main/l/lwip/$(POSTLET_LWIP_SOURCE) \
	https://deb.debian.org/debian/pool/main/b/bearssl/$(POSTLET_BEARSSL_SOURCE)

# A developer's checkout brings its own build/; leave it behind.
POSTLET_OVERRIDE_SRCDIR_RSYNC_EXCLUSIONS = --exclude build

define POSTLET_UNPACK_LIBS
	for f in $(POSTLET_LWIP_SOURCE) $(POSTLET_BEARSSL_SOURCE); do \
		test -f $(POSTLET_DL_DIR)/$$f || { \
			echo "postlet: $(POSTLET_DL_DIR)/$$f is missing" \
				"(see firmware/README.md)" >&2; exit 1; }; \
	done
	rm -rf $(@D)/deps
	mkdir -p $(@D)/deps/lwip $(@D)/deps/bearssl
	$(XZCAT) $(POSTLET_DL_DIR)/$(POSTLET_LWIP_SOURCE) | \
		$(TAR) --strip-components=1 -C $(@D)/deps/lwip $(TAR_OPTIONS) -
	$(XZCAT) $(POSTLET_DL_DIR)/$(POSTLET_BEARSSL_SOURCE) | \
		$(TAR) --strip-components=1 -C $(@D)/deps/bearssl $(TAR_OPTIONS) -
endef
POSTLET_POST_EXTRACT_HOOKS += POSTLET_UNPACK_LIBS
# With POSTLET_OVERRIDE_SRCDIR there is no download or extract step.
POSTLET_POST_RSYNC_HOOKS += POSTLET_UNPACK_LIBS

POSTLET_MAKE_OPTS = \
	LWIP_DIR=$(@D)/deps/lwip \
	BEARSSL_DIR=$(@D)/deps/bearssl \
	STATIC=$(if $(BR2_STATIC_LIBS),1,0) \
	TAP=$(if $(BR2_PACKAGE_POSTLET_TAP),1,0) \
	PREFIX=/usr

define POSTLET_BUILD_CMDS
	$(TARGET_MAKE_ENV) $(MAKE) $(TARGET_CONFIGURE_OPTS) -C $(@D) \
		$(POSTLET_MAKE_OPTS)
endef

# Installs the binary (unstripped: Buildroot strips), the man page and
# /etc/postlet/postlet.conf.example; the example becomes the configuration,
# with its example host name left out so the system's name is used.
define POSTLET_INSTALL_TARGET_CMDS
	$(TARGET_MAKE_ENV) $(MAKE) $(TARGET_CONFIGURE_OPTS) -C $(@D) \
		$(POSTLET_MAKE_OPTS) DESTDIR=$(TARGET_DIR) install
	sed 's/^hostname /#hostname /' $(@D)/doc/postlet.conf.example \
		>$(@D)/postlet.conf
	$(INSTALL) -D -m 0600 $(@D)/postlet.conf \
		$(TARGET_DIR)/etc/postlet/postlet.conf
endef

define POSTLET_INSTALL_INIT_SYSV
	$(INSTALL) -D -m 0755 $(POSTLET_PKGDIR)/S50postlet \
		$(TARGET_DIR)/etc/init.d/S50postlet
endef

$(eval $(generic-package))
