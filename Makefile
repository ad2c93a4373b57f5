# postlet: a mail submission agent for routers and NAS boxes.
#
# make                build build/postlet (static, against musl by default)
# make run            build, then run postlet in the foreground on an example
#                     configuration (127.0.0.1, high ports, test certificate)
# make check          unit, sanitizer and integration tests
# make install        install binary, example config and man page
# make TARGET=mipsel  cross-build build/mipsel/postlet (also mips, armhf,
#                     aarch64) with Debian's cross gcc and musl
# make cross-check    cross-build every TARGET and run each under qemu
#
# Honoured: CC CFLAGS CPPFLAGS LDFLAGS AR STRIP DESTDIR PREFIX SBINDIR
#           SYSCONFDIR MANDIR V=1
#           CROSS_COMPILE=prefix- (gcc, ar, strip from that toolchain)
#           LWIP_DIR= BEARSSL_DIR= (use these sources, fetch nothing)
#           TAP=0 (leave out the lwIP-on-TAP backend)
#           STATIC=0 (link the C library dynamically)
#           B=dir (objects and binary; default build/, build/TARGET)
#           WERROR=1 (warnings in postlet's own files are errors)

VERSION = 0.1.0

include mk/deps.mk

# TARGET picks Debian's cross binutils and its musl wrapper for that
# architecture (tools/install-cross-deps installs both). It is taken from
# the command line only: build systems export TARGET for their own uses.
CROSS_mipsel = mipsel-linux-gnu mipsel-linux-musl
CROSS_mips = mips-linux-gnu mips-linux-musl
CROSS_armhf = arm-linux-gnueabihf arm-linux-musleabihf
CROSS_aarch64 = aarch64-linux-gnu aarch64-linux-musl
CROSS_TARGETS = mipsel mips armhf aarch64
ifeq ($(origin TARGET),environment)
TARGET =
endif
ifneq ($(TARGET),)
ifeq ($(CROSS_$(TARGET)),)
$(error TARGET=$(TARGET): use one of $(CROSS_TARGETS))
endif
CROSS_COMPILE = $(word 1,$(CROSS_$(TARGET)))-
CC_DEFAULT = $(word 2,$(CROSS_$(TARGET)))-gcc
else
CC_DEFAULT = $(if $(CROSS_COMPILE),$(CROSS_COMPILE)gcc,musl-gcc)
endif

ifeq ($(origin CC),default)
CC = $(CC_DEFAULT)
endif
ifeq ($(origin AR),default)
AR = $(CROSS_COMPILE)ar
endif
STRIP ?= $(CROSS_COMPILE)strip
CFLAGS ?= -Os -g
PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
SYSCONFDIR ?= /etc
MANDIR ?= $(PREFIX)/share/man
TAP ?= 1
STATIC ?= 1

# Host and cross objects never mix: a TARGET builds in build/TARGET, a
# CROSS_COMPILE in build/<its prefix>. The third-party sources are fetched
# once into build/ and shared.
BUILD = build
ifneq ($(TARGET),)
B = $(BUILD)/$(TARGET)
else ifneq ($(CROSS_COMPILE),)
B = $(BUILD)/$(notdir $(CROSS_COMPILE:%-=%))
else
B = $(BUILD)
endif
DL = $(BUILD)/dl
ifeq ($(V),1)
Q =
else
Q = @
endif

ifeq ($(LWIP_DIR),)
LWIP_DIR = $(BUILD)/lwip-2.1.3
LWIP_STAMP = $(LWIP_DIR)/.unpacked
endif
ifeq ($(BEARSSL_DIR),)
BEARSSL_DIR = $(BUILD)/bearssl-0.6
BEARSSL_STAMP = $(BEARSSL_DIR)/.unpacked
endif

PORT_DIR = board/linux
SECTIONS = -ffunction-sections -fdata-sections
LIB_CFLAGS = $(CFLAGS) $(CPPFLAGS) $(SECTIONS) -w
INCLUDES = -Isrc -Iboard/linux -isystem $(LWIP_DIR)/src/include \
	-isystem $(BEARSSL_DIR)/inc
WARN = -Wall -Wextra -Wundef -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wformat=2 -Wvla
ifeq ($(WERROR),1)
WARN += -Werror
endif
OUR_CFLAGS = -std=c11 -D_DEFAULT_SOURCE -DPOSTLET_VERSION='"$(VERSION)"' \
	-DPOSTLET_TAP=$(TAP) $(WARN) $(SECTIONS) $(INCLUDES) \
	$(CFLAGS) $(CPPFLAGS)
LINK_FLAGS = -Wl,--gc-sections $(if $(filter 1,$(STATIC)),-static) $(LDFLAGS)

CORE_SRCS = $(wildcard src/*.c src/*/*.c)
BOARD_SRCS = $(filter-out $(if $(filter 0,$(TAP)),board/linux/net_tap.c), \
	$(wildcard board/linux/*.c))
SRCS = $(CORE_SRCS) $(BOARD_SRCS)
OBJS = $(patsubst %.c,$(B)/obj/%.o,$(SRCS))

all: $(B)/postlet

$(B)/postlet: $(B)/postlet.unstripped
	$(Q)$(STRIP) -o $@ $<

$(B)/postlet.unstripped: $(OBJS) $(B)/lib/liblwip.a $(B)/lib/libbearssl.a
	@[ "$(V)" = 1 ] || echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) $(LINK_FLAGS) -o $@ $(OBJS) \
		$(B)/lib/liblwip.a $(B)/lib/libbearssl.a

$(B)/obj/%.o: %.c $(LWIP_STAMP) $(BEARSSL_STAMP)
	@mkdir -p $(dir $@)
	@[ "$(V)" = 1 ] || echo "  CC      $<"
	$(Q)$(CC) $(OUR_CFLAGS) -MMD -MP -c -o $@ $<

-include $(OBJS:.o=.d)

$(B)/lib/liblwip.a: $(LWIP_STAMP) $(wildcard board/linux/*.h board/linux/arch/*.h)
	$(Q)$(MAKE) --no-print-directory -f mk/lib.mk LIB=lwip OUT=$(B)/lib \
		LWIP_DIR=$(LWIP_DIR) PORT_DIR=$(PORT_DIR) CC="$(CC)" AR="$(AR)" \
		LIB_CFLAGS="$(LIB_CFLAGS)" V=$(V)

$(B)/lib/libbearssl.a: $(BEARSSL_STAMP)
	$(Q)$(MAKE) --no-print-directory -f mk/lib.mk LIB=bearssl \
		OUT=$(B)/lib BEARSSL_DIR=$(BEARSSL_DIR) CC="$(CC)" AR="$(AR)" \
		LIB_CFLAGS="$(LIB_CFLAGS)" V=$(V)

ifneq ($(LWIP_STAMP),)
$(LWIP_STAMP):
	$(Q)tools/fetch-deb-source lwip $(LWIP_DEB_VERSION) $(LWIP_ORIG) \
		$(LWIP_SHA256) $(DL) $(LWIP_DIR)
endif
ifneq ($(BEARSSL_STAMP),)
$(BEARSSL_STAMP):
	$(Q)tools/fetch-deb-source bearssl $(BEARSSL_DEB_VERSION) \
		$(BEARSSL_ORIG) $(BEARSSL_SHA256) $(DL) $(BEARSSL_DIR)
endif

# Only the developer targets install host packages; a firmware build
# never touches the build machine.
host-deps:
	$(Q)tools/install-deps

run: host-deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)tools/run-example $(B)

# CI treats a warning in our files as an error.
check: host-deps
	$(Q)$(MAKE) --no-print-directory all WERROR=1
	$(Q)$(MAKE) --no-print-directory -f mk/test.mk check \
		LWIP_DIR=$(LWIP_DIR) BEARSSL_DIR=$(BEARSSL_DIR) V=$(V)

# Developer target, not part of check: cross-builds each TARGET and runs
# it under qemu-user.
cross-check:
	$(Q)tools/install-cross-deps $(or $(TARGET),$(CROSS_TARGETS))
	$(Q)tools/cross-check $(or $(TARGET),$(CROSS_TARGETS))

bench: all
	$(Q)tools/bench-memory $(B)/postlet
	$(Q)tools/bench-submission $(B)/postlet

install: $(B)/postlet.unstripped
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(SYSCONFDIR)/postlet \
		$(DESTDIR)$(MANDIR)/man8
	install -m 755 $(B)/postlet.unstripped $(DESTDIR)$(SBINDIR)/postlet
	install -m 644 doc/postlet.conf.example \
		$(DESTDIR)$(SYSCONFDIR)/postlet/postlet.conf.example
	install -m 644 doc/postlet.8 $(DESTDIR)$(MANDIR)/man8/postlet.8

install-strip: install
	$(STRIP) $(DESTDIR)$(SBINDIR)/postlet

clean:
	rm -rf $(B)/obj $(B)/lib $(B)/test $(B)/postlet $(B)/postlet.unstripped

distclean:
	rm -rf $(BUILD)

.PHONY: all run check cross-check bench install install-strip clean \
	distclean host-deps
