# Pinned third-party sources. Debian source packages, fetched by
# tools/fetch-deb-source and checked against these SHA-256 sums. A firmware
# builder passes LWIP_DIR= and BEARSSL_DIR= instead; then nothing is fetched.

LWIP_DEB_VERSION = 2.1.3+dfsg1-2
LWIP_ORIG = lwip_2.1.3+dfsg1.orig.tar.xz
LWIP_SHA256 = 0a8276d09fc4e97bbba2f953d74af2388fc2195ea156be9d7589e297a68fde24

BEARSSL_DEB_VERSION = 0.6+dfsg.1-3
BEARSSL_ORIG = bearssl_0.6+dfsg.1.orig.tar.xz
BEARSSL_SHA256 = 102a625bd8f6155260867a50c508df8d8c3f796985dd744df1a68e5cd1a79004
