# flags.mk — compiler flags shared by every build in the project.
#
# MODE=debug (default) or MODE=asan (AddressSanitizer + UndefinedBehavior-
# Sanitizer). Both keep -Werror: a warning in a lab is a compile error there.

MODE ?= debug
CC ?= cc

PKGS := libuv check
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

CFLAGS := -std=c11 -Wall -Wextra -Werror -g -O1 -D_POSIX_C_SOURCE=200809L
CFLAGS += -MMD -MP $(PKG_CFLAGS)
LDLIBS := $(PKG_LIBS) -lpthread

ifeq ($(MODE),asan)
CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif
