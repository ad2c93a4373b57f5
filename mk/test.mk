# Tests. Unit tests are built with the host compiler (cmocka is a glibc
# library) against host builds of lwIP and BearSSL, once plain and once
# with AddressSanitizer and UBSan. Each tests/unit/test_*.c is one program
# linked against all of postlet except main().
#
#   make -f mk/test.mk unit        plain unit tests
#   make -f mk/test.mk asan        the same under ASan/UBSan
#   make -f mk/test.mk integration pytest against build/postlet
#   make -f mk/test.mk integration-asan  the same against an ASan daemon
#   make -f mk/test.mk check       all of the above

B = build
HOSTCC ?= gcc
LWIP_DIR ?= $(B)/lwip-2.1.3
BEARSSL_DIR ?= $(B)/bearssl-0.6
ifeq ($(V),1)
Q =
else
Q = @
endif

TESTS = $(patsubst tests/unit/%.c,%,$(wildcard tests/unit/test_*.c))
LIB_SRCS = $(filter-out board/linux/main.c,$(wildcard src/*.c src/*/*.c \
	board/linux/*.c))
HELPERS = $(filter-out tests/unit/test_%.c,$(wildcard tests/unit/*.c))
INCLUDES = -Isrc -Iboard/linux -Itests/unit -isystem $(LWIP_DIR)/src/include \
	-isystem $(BEARSSL_DIR)/inc
WARN = -Wall -Wextra -Wundef -Werror
DEFS = -std=c11 -D_DEFAULT_SOURCE -DPOSTLET_VERSION='"test"' -DPOSTLET_TAP=1 \
	-DPOSTLET_TEST=1 -DPKI_DIR='"$(B)/test/pki"'

# One build flavour: $(1) dir, $(2) extra flags
define flavour
$(1)/obj/%.o: %.c
	@mkdir -p $$(dir $$@)
	@[ "$(V)" = 1 ] || echo "  HOSTCC  $$< ($(notdir $(1)))"
	$(Q)$(HOSTCC) $(DEFS) $(WARN) $(INCLUDES) $(2) -g -O1 -MMD -MP -c -o $$@ $$<

$(1)/libpostlet.a: $(patsubst %.c,$(1)/obj/%.o,$(LIB_SRCS) $(HELPERS))
	$(Q)rm -f $$@ && ar rcs $$@ $$^

$(1)/liblwip.a: board/linux/lwipopts.h board/linux/arch/cc.h
	$(Q)rm -rf $(1)/lwip $$@
	$(Q)$(MAKE) --no-print-directory -f mk/lib.mk LIB=lwip OUT=$(1) \
		LWIP_DIR=$(LWIP_DIR) PORT_DIR=board/linux CC=$(HOSTCC) AR=ar \
		LIB_CFLAGS="-g -O1 -w $(2)" V=$(V)

$(1)/libbearssl.a: mk/test.mk
	$(Q)rm -rf $(1)/bearssl $$@
	$(Q)$(MAKE) --no-print-directory -f mk/lib.mk LIB=bearssl OUT=$(1) \
		BEARSSL_DIR=$(BEARSSL_DIR) CC=$(HOSTCC) AR=ar \
		LIB_CFLAGS="-g -O1 -w $(2) $(BEARSSL_TEST_FLAGS)" V=$(V)

$(1)/%: $(1)/obj/tests/unit/%.o $(1)/libpostlet.a $(1)/liblwip.a $(1)/libbearssl.a
	$(Q)$(HOSTCC) $(2) -o $$@ $$< $(1)/libpostlet.a $(1)/liblwip.a \
		$(1)/libbearssl.a -lcmocka
endef

$(eval $(call flavour,$(B)/test/unit,))
# BearSSL reads words at any address where the CPU allows it (x86); that
# is by design, but UBSan reports it, so test builds read byte by byte.
BEARSSL_TEST_FLAGS = -DBR_LE_UNALIGNED=0 -DBR_BE_UNALIGNED=0
ASAN_FLAGS = -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
$(eval $(call flavour,$(B)/test/asan,$(ASAN_FLAGS)))

# The daemon itself under ASan/UBSan, for the integration suite: the
# connection callbacks' lifetimes are where a use-after-free would hide.
$(B)/test/asan/postlet: board/linux/main.c $(B)/test/asan/libpostlet.a \
		$(B)/test/asan/liblwip.a $(B)/test/asan/libbearssl.a
	@echo "  HOSTLD  $@"
	$(Q)$(HOSTCC) $(DEFS) $(WARN) $(INCLUDES) -g -O1 $(ASAN_FLAGS) -o $@ $^

-include $(shell find $(B)/test -name '*.d' 2>/dev/null)

pki: $(B)/test/pki/.done
$(B)/test/pki/.done: tests/pki/make-pki
	$(Q)rm -rf $(B)/test/pki && tests/pki/make-pki $(B)/test/pki

unit: pki $(addprefix $(B)/test/unit/,$(TESTS))
	$(Q)set -e; for t in $(TESTS); do \
		echo "  UNIT    $$t"; $(B)/test/unit/$$t; done

asan: pki $(addprefix $(B)/test/asan/,$(TESTS))
	$(Q)set -e; for t in $(TESTS); do \
		echo "  ASAN    $$t"; \
		ASAN_OPTIONS=detect_leaks=1 $(B)/test/asan/$$t; done

# The resolver's DNS cases need a namespace with a DNS server of their
# own; the runner makes one (root or user namespaces needed).
resolve-netns: $(B)/test/unit/test_resolve
	$(Q)if unshare --net --mount true 2>/dev/null || \
		unshare --map-root-user --net --mount true 2>/dev/null; then \
		echo "  NETNS   test_resolve"; \
		tests/unit/run-resolve-netns $(B)/test/unit/test_resolve; \
	else \
		echo "  SKIP    test_resolve DNS cases: no namespaces here"; \
	fi

integration: pki
	$(Q)cd tests/integration && /usr/bin/python3 -m pytest -q -ra \
		-p no:cacheprovider $(PYTEST_ARGS) .

integration-asan: pki $(B)/test/asan/postlet
	$(Q)echo "  PYTEST  against the ASan/UBSan daemon"
	$(Q)cd tests/integration && \
		POSTLET_BINARY=$(abspath $(B)/test/asan/postlet) \
		ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=print_stacktrace=1 \
		/usr/bin/python3 -m pytest -q -ra -p no:cacheprovider \
		$(PYTEST_ARGS) .

check: lint unit asan fuzz resolve-netns integration integration-asan

.PHONY: unit asan integration integration-asan check pki resolve-netns
.SECONDARY:
.SECONDEXPANSION:

# Fuzz targets (libFuzzer), each with the few sources it exercises; CI
# runs each for FUZZ_SECONDS on its seed corpus.
FUZZ_SECONDS ?= 15
FUZZ_CC ?= clang
FUZZ_FLAGS = -g -O1 -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=all $(DEFS) -Isrc -Iboard/linux \
	-isystem $(LWIP_DIR)/src/include -isystem $(BEARSSL_DIR)/inc
fuzz_conf_SRCS = $(wildcard src/conf/*.c) src/log.c src/file.c
fuzz_command_SRCS = src/smtp/linebuf.c src/smtp/commands.c src/smtp/path.c \
	src/smtp/sasl.c src/base64.c src/wipe.c
fuzz_srv_SRCS = board/linux/resolve_srv.c
fuzz_msg_SRCS = $(wildcard src/msg/*.c)
fuzz_reply_SRCS = src/relay/reply.c src/relay/caps.c
fuzz_users_SRCS = src/auth/users.c src/auth/shacrypt.c src/dname.c src/file.c \
	src/wipe.c \
	$(B)/test/unit/libbearssl.a
FUZZERS = $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c))

$(B)/test/fuzz/%: tests/fuzz/%.c $$(%_SRCS)
	@mkdir -p $(dir $@)
	@echo "  FUZZCC  $@"
	$(Q)$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $< $($*_SRCS)

fuzz: $(addprefix $(B)/test/fuzz/,$(FUZZERS))
	$(Q)set -e; for f in $(FUZZERS); do \
		echo "  FUZZ    $$f ($(FUZZ_SECONDS) s)"; \
		mkdir -p $(B)/test/fuzz/corpus-$$f; \
		$(B)/test/fuzz/$$f -max_total_time=$(FUZZ_SECONDS) \
			-print_final_stats=0 $(B)/test/fuzz/corpus-$$f \
			tests/fuzz/corpus/$${f#fuzz_} 2>$(B)/test/fuzz/$$f.log \
			|| { tail -40 $(B)/test/fuzz/$$f.log; exit 1; }; \
	done

# Our C files must match .clang-format and pass cppcheck.
FORMATTED = $(wildcard src/*.[ch] src/*/*.[ch] board/linux/*.[ch] \
	board/linux/arch/*.h tests/unit/*.[ch] tests/fuzz/*.c)
lint:
	$(Q)clang-format --dry-run --Werror $(FORMATTED)
	$(Q)cppcheck --quiet --error-exitcode=1 --enable=warning,portability \
		--inline-suppr -D__GNUC__ -DPOSTLET_TAP=1 -Isrc -Iboard/linux \
		--suppress=missingIncludeSystem src board/linux

.PHONY: fuzz lint
