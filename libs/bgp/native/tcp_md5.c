/*
 * The socket options BGP sessions need and Node.js's net module cannot set:
 * TCP-MD5 signatures (RFC 2385) and GTSM (RFC 5082). A Node-API addon
 * (ABI-stable: one build serves every Node.js version with Node-API 8),
 * Linux only. (The file keeps its first feature's name: the build, the image
 * and SVCBGP_TCP_MD5_ADDON all know it by it.)
 *
 *   createTcpSocket(family: 4 | 6): number
 *     socket(AF_INET | AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC):
 *     an unconnected TCP socket, for net.Socket({ fd }) to connect.
 *   setMd5Key(fd, family: 4 | 6, address, prefixLength, key): undefined
 *     setsockopt(TCP_MD5SIG) for one peer address (prefixLength -1), or
 *     TCP_MD5SIG_EXT for a prefix. An empty key deletes the address's key.
 *     On an IPv6 socket an IPv4 address is keyed as IPv4-mapped, as the
 *     kernel sees such peers.
 *   setTtlSecurity(fd, family: 4 | 6, hops: 0..255): undefined
 *     GTSM for a peer of that family: hops 1..255 sends with TTL (hop limit)
 *     255 and drops segments that arrive with less than 256 - hops
 *     (IP_TTL + IP_MINTTL; IPV6_UNICAST_HOPS + IPV6_MINHOPCOUNT); hops 0
 *     restores the defaults (route TTL, no minimum). An IPv4 peer of an IPv6
 *     socket (IPv4-mapped) is served by the IPv4 options, so such a socket
 *     gets both families'.
 *
 * Failures throw an Error with `code` ("EPERM", "ENOENT", ...), `errno`
 * (positive, as in C) and `syscall`. Nothing here ever puts the key into a
 * message, and the key's copy is wiped after use.
 */
#define _GNU_SOURCE
#define NAPI_VERSION 8
#include <node_api.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#ifndef IP_MINTTL
#define IP_MINTTL 21
#endif
#ifndef IPV6_MINHOPCOUNT
#define IPV6_MINHOPCOUNT 73
#endif

/* GTSM (RFC 5082): what a session sends with, and the largest hop count. */
#define GTSM_TTL 255
#define GTSM_MAX_HOPS 255

#ifndef TCP_MD5SIG_EXT
#define TCP_MD5SIG_EXT 32
#endif
#ifndef TCP_MD5SIG_FLAG_PREFIX
#define TCP_MD5SIG_FLAG_PREFIX 1
#endif

static const char *errno_name(int err) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
  const char *name = strerrorname_np(err);
  if (name) return name;
#endif
  switch (err) {
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case EBADF: return "EBADF";
    case EACCES: return "EACCES";
    case EFAULT: return "EFAULT";
    case EINVAL: return "EINVAL";
    case ENFILE: return "ENFILE";
    case EMFILE: return "EMFILE";
    case ENOMEM: return "ENOMEM";
    case ENOBUFS: return "ENOBUFS";
    case ENOTSOCK: return "ENOTSOCK";
    case ENOPROTOOPT: return "ENOPROTOOPT";
    case EPROTONOSUPPORT: return "EPROTONOSUPPORT";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case EAFNOSUPPORT: return "EAFNOSUPPORT";
    default: return "EUNKNOWN";
  }
}

/* Throws an Error carrying code, errno and syscall; returns NULL for the caller to return. */
static napi_value throw_errno(napi_env env, int err, const char *syscall, const char *detail) {
  char message[256];
  const char *code = errno_name(err);
  snprintf(message, sizeof message, "%s %s: %s%s%s", syscall, code, strerror(err), detail ? " " : "", detail ? detail : "");
  napi_value code_value, message_value, error, errno_value, syscall_value;
  if (napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &code_value) != napi_ok) return NULL;
  if (napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &message_value) != napi_ok) return NULL;
  if (napi_create_error(env, code_value, message_value, &error) != napi_ok) return NULL;
  if (napi_create_int32(env, err, &errno_value) == napi_ok) napi_set_named_property(env, error, "errno", errno_value);
  if (napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &syscall_value) == napi_ok) napi_set_named_property(env, error, "syscall", syscall_value);
  napi_throw(env, error);
  return NULL;
}

static napi_value throw_type(napi_env env, const char *message) {
  napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", message);
  return NULL;
}

static int family_arg(napi_env env, napi_value value, int *domain) {
  int32_t family;
  if (napi_get_value_int32(env, value, &family) != napi_ok || (family != 4 && family != 6)) return 0;
  *domain = family == 6 ? AF_INET6 : AF_INET;
  return 1;
}

/*
 * The arguments of setMd5Key and setTtlSecurity: `argc` of them into argv, the
 * first two an fd and a family. On too few throws `arity_error`, on a bad fd
 * or family a TypeError naming `function` (the caller, as JavaScript knows
 * it); either way returns 0 for the caller to return NULL.
 */
static int fd_family_args(napi_env env, napi_callback_info info, const char *function, const char *arity_error, size_t argc, napi_value *argv, int32_t *fd, int *domain) {
  size_t given = argc;
  if (napi_get_cb_info(env, info, &given, argv, NULL, NULL) != napi_ok) return 0;
  if (given < argc) {
    throw_type(env, arity_error);
    return 0;
  }
  char message[128];
  if (napi_get_value_int32(env, argv[0], fd) != napi_ok || *fd < 0) {
    snprintf(message, sizeof message, "%s: fd must be a non-negative integer", function);
  } else if (!family_arg(env, argv[1], domain)) {
    snprintf(message, sizeof message, "%s: family must be 4 or 6", function);
  } else {
    return 1;
  }
  throw_type(env, message);
  return 0;
}

static napi_value create_tcp_socket(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int domain;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  if (argc < 1 || !family_arg(env, argv[0], &domain)) return throw_type(env, "createTcpSocket(family): family must be 4 or 6");
  int fd = socket(domain, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
  if (fd < 0) return throw_errno(env, errno, "socket", NULL);
  napi_value result;
  if (napi_create_int32(env, fd, &result) != napi_ok) return NULL;
  return result;
}

static napi_value set_md5_key(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  int32_t fd, prefix;
  int domain;
  if (!fd_family_args(env, info, "setMd5Key", "setMd5Key(fd, family, address, prefixLength, key): five arguments", 5, argv, &fd, &domain)) return NULL;
  if (napi_get_value_int32(env, argv[3], &prefix) != napi_ok || prefix < -1 || prefix > (domain == AF_INET6 ? 128 : 32))
    return throw_type(env, "setMd5Key: prefixLength must be -1 (one address) or a prefix length of the family");

  char address[INET6_ADDRSTRLEN + 1];
  size_t address_length;
  if (napi_get_value_string_utf8(env, argv[2], address, sizeof address, &address_length) != napi_ok) return throw_type(env, "setMd5Key: address must be a string");

  size_t key_length;
  if (napi_get_value_string_utf8(env, argv[4], NULL, 0, &key_length) != napi_ok) return throw_type(env, "setMd5Key: key must be a string");
  if (key_length > TCP_MD5SIG_MAXKEYLEN) return throw_errno(env, EINVAL, "setsockopt", "(TCP-MD5 keys are at most 80 bytes)");

  struct tcp_md5sig sig;
  memset(&sig, 0, sizeof sig);
  if (domain == AF_INET6) {
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&sig.tcpm_addr;
    sin6->sin6_family = AF_INET6;
    if (inet_pton(AF_INET6, address, &sin6->sin6_addr) != 1) return throw_errno(env, EINVAL, "inet_pton", "(not an IPv6 address)");
  } else {
    struct in_addr v4;
    if (inet_pton(AF_INET, address, &v4) != 1) return throw_errno(env, EINVAL, "inet_pton", "(not an IPv4 address)");
    int socket_domain = 0;
    socklen_t size = sizeof socket_domain;
    if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &socket_domain, &size) != 0) return throw_errno(env, errno, "getsockopt", NULL);
    if (socket_domain == AF_INET6) {
      /* The kernel keys IPv4 peers of an IPv6 socket by their mapped address. */
      struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&sig.tcpm_addr;
      sin6->sin6_family = AF_INET6;
      sin6->sin6_addr.s6_addr[10] = 0xff;
      sin6->sin6_addr.s6_addr[11] = 0xff;
      memcpy(&sin6->sin6_addr.s6_addr[12], &v4, 4);
      if (prefix >= 0) prefix += 96;
    } else {
      struct sockaddr_in *sin = (struct sockaddr_in *)&sig.tcpm_addr;
      sin->sin_family = AF_INET;
      sin->sin_addr = v4;
    }
  }

  char key[TCP_MD5SIG_MAXKEYLEN + 1];
  size_t copied = 0;
  if (key_length > 0 && napi_get_value_string_utf8(env, argv[4], key, sizeof key, &copied) != napi_ok) {
    explicit_bzero(key, sizeof key);
    return NULL;
  }
  memcpy(sig.tcpm_key, key, copied);
  sig.tcpm_keylen = (uint16_t)copied;
  explicit_bzero(key, sizeof key);

  int option = TCP_MD5SIG;
  if (prefix >= 0) {
    option = TCP_MD5SIG_EXT;
    sig.tcpm_flags = TCP_MD5SIG_FLAG_PREFIX;
    sig.tcpm_prefixlen = (uint8_t)prefix;
  }
  int rc = setsockopt(fd, IPPROTO_TCP, option, &sig, sizeof sig);
  int err = errno;
  explicit_bzero(&sig, sizeof sig);
  if (rc != 0) return throw_errno(env, err, "setsockopt", option == TCP_MD5SIG_EXT ? "(TCP_MD5SIG_EXT)" : "(TCP_MD5SIG)");
  return NULL;
}

/* setsockopt of one int; on failure throws (naming the option) and returns 0. */
static int set_int_option(napi_env env, int fd, int level, int option, int value, const char *name) {
  if (setsockopt(fd, level, option, &value, sizeof value) == 0) return 1;
  throw_errno(env, errno, "setsockopt", name);
  return 0;
}

static napi_value set_ttl_security(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  int32_t fd, hops;
  int peer_domain;
  if (!fd_family_args(env, info, "setTtlSecurity", "setTtlSecurity(fd, family, hops): three arguments", 3, argv, &fd, &peer_domain)) return NULL;
  if (napi_get_value_int32(env, argv[2], &hops) != napi_ok || hops < 0 || hops > GTSM_MAX_HOPS)
    return throw_type(env, "setTtlSecurity: hops must be 0 (off) or 1..255");

  int socket_domain = 0;
  socklen_t size = sizeof socket_domain;
  if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &socket_domain, &size) != 0) return throw_errno(env, errno, "getsockopt", NULL);
  if (socket_domain != AF_INET && socket_domain != AF_INET6) return throw_errno(env, EAFNOSUPPORT, "setTtlSecurity", "(not an IP socket)");
  if (socket_domain == AF_INET && peer_domain == AF_INET6) return throw_errno(env, EAFNOSUPPORT, "setTtlSecurity", "(an IPv6 peer on an IPv4 socket)");

  /* -1 restores the route's default TTL; a minimum of 0 checks nothing. */
  int ttl = hops ? GTSM_TTL : -1;
  int min_ttl = hops ? 256 - hops : 0;
  /* The IPv4 options serve IPv4 sockets and the IPv4-mapped peers of IPv6 ones. */
  if (peer_domain == AF_INET) {
    if (!set_int_option(env, fd, IPPROTO_IP, IP_TTL, ttl, "(IP_TTL)")) return NULL;
    if (!set_int_option(env, fd, IPPROTO_IP, IP_MINTTL, min_ttl, "(IP_MINTTL)")) return NULL;
  }
  if (socket_domain == AF_INET6) {
    if (!set_int_option(env, fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, ttl, "(IPV6_UNICAST_HOPS)")) return NULL;
    if (!set_int_option(env, fd, IPPROTO_IPV6, IPV6_MINHOPCOUNT, min_ttl, "(IPV6_MINHOPCOUNT)")) return NULL;
  }
  return NULL;
}

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  napi_value fn;
  if (napi_create_function(env, "createTcpSocket", NAPI_AUTO_LENGTH, create_tcp_socket, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "createTcpSocket", fn) != napi_ok) return NULL;
  if (napi_create_function(env, "setMd5Key", NAPI_AUTO_LENGTH, set_md5_key, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "setMd5Key", fn) != napi_ok) return NULL;
  if (napi_create_function(env, "setTtlSecurity", NAPI_AUTO_LENGTH, set_ttl_security, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "setTtlSecurity", fn) != napi_ok) return NULL;
  return exports;
}
