/*
 * semantics.c - the NT semantics C programs rely on, each case a server in this process and
 * its clients in processes of their own (this program run again as `semantics client CASE
 * NAME`). `semantics` runs every case; `semantics CASE...` runs those. Ends with
 * "N passed, N failed".
 */
#include "capi_test.h"

#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/stat.h>

static const char *self;
static wchar_t portName[128];
static UNICODE_STRING usPortName;

static void set_data(MESSAGE *message, const void *data, size_t length) { capi_set_data(&message->Header, data, length); }

static void init_attributes(ATTRIBUTES *attributes, ULONG flags) {
    capi_init_attributes(&attributes->Header, sizeof *attributes, flags);
}

static HANDLE create_port(const char *tag, ULONG flags, PVOID securityDescriptor) {
    capi_port_name(portName, 128, tag, (long)getpid());
    RtlInitUnicodeString(&usPortName, portName);
    OBJECT_ATTRIBUTES objectAttributes;
    InitializeObjectAttributes(&objectAttributes, &usPortName, 0, NULL, securityDescriptor);
    ALPC_PORT_ATTRIBUTES attributes;
    RtlZeroMemory(&attributes, sizeof attributes);
    attributes.Flags = flags;
    attributes.MaxMessageLength = sizeof(MESSAGE);
    HANDLE port = NULL;
    CHECK_STATUS(NtAlpcCreatePort(&port, &objectAttributes, &attributes), STATUS_SUCCESS);
    return port;
}

static pid_t spawn_client(const char *which) {
    char name[128];
    capi_narrow(name, sizeof name, portName);
    return capi_spawn(self, "client", which, name, (char *)NULL);
}

/* Receives the next message on `port` within 10 s. */
static void receive(HANDLE port, MESSAGE *message, ATTRIBUTES *attributes) {
    SIZE_T length = sizeof *message;
    LARGE_INTEGER timeout = capi_ms(10000);
    CHECK_STATUS(NtAlpcSendWaitReceivePort(port, 0, NULL, NULL, &message->Header, &length,
                                           attributes ? &attributes->Header : NULL, &timeout),
                 STATUS_SUCCESS);
}

/* Receives a connection request and accepts it with `context`; returns the communication port. */
static HANDLE accept_next(HANDLE port, PVOID context) {
    MESSAGE message;
    receive(port, &message, NULL);
    CHECK(LOBYTE(message.Header.u2.s2.Type) == LPC_CONNECTION_REQUEST, "type 0x%x", (unsigned)message.Header.u2.s2.Type);
    HANDLE communication = NULL;
    CHECK_STATUS(NtAlpcAcceptConnectPort(&communication, port, 0, NULL, NULL, context, &message.Header, NULL, TRUE),
                 STATUS_SUCCESS);
    CHECK(communication != NULL, "no communication port");
    return communication;
}

/* Replies "ok:<data>" to the request in `message` through `port`. */
static void reply_ok(HANDLE port, MESSAGE *message) {
    char text[256];
    int length = snprintf(text, sizeof text, "ok:%.*s", message->Header.u1.s1.DataLength, (char *)message->Data);
    set_data(message, text, (size_t)length);
    CHECK_STATUS(NtAlpcSendWaitReceivePort(port, 0, &message->Header, NULL, NULL, NULL, NULL, NULL), STATUS_SUCCESS);
}

static void expect_exit(pid_t pid, const char *what) {
    int status = capi_wait(pid, 20);
    CHECK(status == 0, "%s exited with %d", what, status);
}

/* ---------------------------------------------------------------------------------------
 * Client side
 * ------------------------------------------------------------------------------------- */

/* Points usPortName at the ASCII port name `name`. */
static void set_port_name(const char *name) {
    capi_widen(name, portName, 128);
    RtlInitUnicodeString(&usPortName, portName);
}

static HANDLE connect_port(const char *name, ULONG flags) {
    set_port_name(name);
    HANDLE port = NULL;
    LARGE_INTEGER timeout = capi_ms(10000);
    CHECK_STATUS(NtAlpcConnectPort(&port, &usPortName, NULL, NULL, flags, NULL, NULL, NULL, NULL, NULL, &timeout),
                 STATUS_SUCCESS);
    return port;
}

static void request(HANDLE port, const char *text, const char *expected) {
    MESSAGE message;
    RtlZeroMemory(&message, sizeof message);
    set_data(&message, text, strlen(text));
    SIZE_T length = sizeof message;
    LARGE_INTEGER timeout = capi_ms(10000);
    CHECK_STATUS(NtAlpcSendWaitReceivePort(port, ALPC_MSGFLG_SYNC_REQUEST, &message.Header, NULL, &message.Header,
                                           &length, NULL, &timeout),
                 STATUS_SUCCESS);
    CHECK(message.Header.u1.s1.DataLength == (CSHORT)strlen(expected) &&
              memcmp(message.Data, expected, strlen(expected)) == 0,
          "reply <%.*s>, expected <%s>", message.Header.u1.s1.DataLength, (char *)message.Data, expected);
}

static NTSTATUS NTAPI sender_thread(PVOID context) {
    request((HANDLE)context, "from a thread", "ok:from a thread");
    return STATUS_SUCCESS;
}

static int client(const char *which, const char *name) {
    if (strcmp(which, "late") == 0) {
        Sleep(300);
        HANDLE port = connect_port(name, ALPC_MSGFLG_SYNC_REQUEST);
        NtClose(port);
    } else if (strcmp(which, "requests") == 0) {
        /* Requests until the server says stop; then a normal exit (LPC_PORT_CLOSED). */
        HANDLE port = connect_port(name, ALPC_MSGFLG_SYNC_REQUEST);
        request(port, "one", "ok:one");
        request(port, "two", "ok:two");
        NtClose(port);
    } else if (strcmp(which, "waitable-client") == 0) {
        /* A client port connected waitable: its descriptor and NtWaitForSingleObject announce
         * the reply to an asynchronous request. */
        set_port_name(name);
        ALPC_PORT_ATTRIBUTES attributes;
        RtlZeroMemory(&attributes, sizeof attributes);
        attributes.Flags = ALPC_PORFLG_WAITABLE_PORT;
        attributes.MaxMessageLength = sizeof(MESSAGE);
        HANDLE port = NULL;
        LARGE_INTEGER timeout = capi_ms(10000), zero = {.QuadPart = 0};
        CHECK_STATUS(NtAlpcConnectPort(&port, &usPortName, NULL, &attributes, ALPC_MSGFLG_SYNC_REQUEST, NULL, NULL, NULL,
                                       NULL, NULL, &timeout),
                     STATUS_SUCCESS);
        int fd = AlpcGetPortDescriptor(port);
        CHECK(fd >= 0, "a waitable client port has a descriptor");
        CHECK_STATUS(NtWaitForSingleObject(port, FALSE, &zero), STATUS_TIMEOUT);
        MESSAGE message;
        RtlZeroMemory(&message, sizeof message);
        set_data(&message, "later", 5);
        CHECK_STATUS(NtAlpcSendWaitReceivePort(port, 0, &message.Header, NULL, NULL, NULL, NULL, NULL), STATUS_SUCCESS);
        /* The server answers after 200 ms: the wait ends with its reply. */
        CHECK_STATUS(NtWaitForSingleObject(port, FALSE, &timeout), STATUS_WAIT_0);
        struct pollfd entry = {.fd = fd, .events = POLLIN};
        CHECK(poll(&entry, 1, 0) == 1, "the descriptor is readable");
        /* Readable means a receive may find a message: receive without waiting until it does. */
        SIZE_T length = sizeof message;
        NTSTATUS status;
        long long deadline = capi_now_ms() + 2000;
        while ((status = NtAlpcSendWaitReceivePort(port, 0, NULL, NULL, &message.Header, &length, NULL, &zero)) ==
                   STATUS_TIMEOUT &&
               capi_now_ms() < deadline) {
            poll(&entry, 1, 100);
            length = sizeof message;
        }
        CHECK_STATUS(status, STATUS_SUCCESS);
        CHECK(message.Header.u1.s1.DataLength == 8 && memcmp(message.Data, "ok:later", 8) == 0, "reply <%.*s>",
              message.Header.u1.s1.DataLength, (char *)message.Data);
        CHECK_STATUS(NtWaitForSingleObject(port, FALSE, &zero), STATUS_TIMEOUT);
        NtClose(port);
    } else if (strcmp(which, "requests-ex") == 0) {
        /* As "requests", connected with NtAlpcConnectPortEx (the port named by object attributes). */
        set_port_name(name);
        OBJECT_ATTRIBUTES objectAttributes;
        InitializeObjectAttributes(&objectAttributes, &usPortName, 0, NULL, NULL);
        HANDLE port = NULL;
        LARGE_INTEGER timeout = capi_ms(10000);
        CHECK_STATUS(NtAlpcConnectPortEx(&port, &objectAttributes, NULL, NULL, ALPC_MSGFLG_SYNC_REQUEST, NULL, NULL,
                                         NULL, NULL, NULL, &timeout),
                     STATUS_SUCCESS);
        request(port, "one", "ok:one");
        request(port, "two", "ok:two");
        NtClose(port);
    } else if (strcmp(which, "hold") == 0) {
        /* Connects, is served once, and holds the connection for a while. The server may be
         * out of descriptors: exit 3 for a refusal with STATUS_INSUFFICIENT_RESOURCES, 4 for
         * STATUS_PORT_CONNECTION_REFUSED. (The server's low soft limit was inherited.) */
        struct rlimit limit;
        getrlimit(RLIMIT_NOFILE, &limit);
        limit.rlim_cur = limit.rlim_max;
        setrlimit(RLIMIT_NOFILE, &limit);
        set_port_name(name);
        HANDLE port = NULL;
        LARGE_INTEGER timeout = capi_ms(5000);
        NTSTATUS status = NtAlpcConnectPort(&port, &usPortName, NULL, NULL, ALPC_MSGFLG_SYNC_REQUEST, NULL, NULL, NULL,
                                            NULL, NULL, &timeout);
        if (status == STATUS_INSUFFICIENT_RESOURCES) return 3;
        if (status == STATUS_PORT_CONNECTION_REFUSED) return 4;
        CHECK_STATUS(status, STATUS_SUCCESS);
        request(port, "held", "ok:held");
        Sleep(1500);
        NtClose(port);
    } else if (strcmp(which, "identify-only") == 0) {
        /* Port attributes zeroed but for the message length: an anonymous QoS, which does not
         * let the server impersonate this client. */
        set_port_name(name);
        ALPC_PORT_ATTRIBUTES attributes;
        RtlZeroMemory(&attributes, sizeof attributes);
        attributes.MaxMessageLength = sizeof(MESSAGE);
        HANDLE port = NULL;
        LARGE_INTEGER timeout = capi_ms(10000);
        CHECK_STATUS(NtAlpcConnectPort(&port, &usPortName, NULL, &attributes, ALPC_MSGFLG_SYNC_REQUEST, NULL, NULL,
                                       NULL, NULL, NULL, &timeout),
                     STATUS_SUCCESS);
        request(port, "no", "ok:no");
        NtClose(port);
    } else if (strcmp(which, "bad-lengths") == 0) {
        /* Requests whose lengths disagree are refused before anything is sent. */
        HANDLE port = connect_port(name, ALPC_MSGFLG_SYNC_REQUEST);
        MESSAGE message;
        RtlZeroMemory(&message, sizeof message);
        SIZE_T length = sizeof message;
        message.Header.u1.s1.DataLength = 10;
        message.Header.u1.s1.TotalLength = (CSHORT)(sizeof(PORT_MESSAGE) + 11);
        CHECK_STATUS(NtAlpcSendWaitReceivePort(port, ALPC_MSGFLG_SYNC_REQUEST, &message.Header, NULL, &message.Header,
                                               &length, NULL, NULL),
                     STATUS_INVALID_PARAMETER);
        message.Header.u1.s1.DataLength = 0;
        message.Header.u1.s1.TotalLength = 0x10;
        CHECK_STATUS(NtAlpcSendWaitReceivePort(port, 0, &message.Header, NULL, NULL, NULL, NULL, NULL),
                     STATUS_INVALID_PARAMETER);
        /* A synchronous request with nowhere to put the reply, or that is also a datagram. */
        set_data(&message, "lost", 4);
        CHECK_STATUS(NtAlpcSendWaitReceivePort(port, ALPC_MSGFLG_SYNC_REQUEST, &message.Header, NULL, NULL, NULL, NULL,
                                               NULL),
                     STATUS_LPC_RECEIVE_BUFFER_EXPECTED);
        CHECK_STATUS(NtAlpcSendWaitReceivePort(port, ALPC_MSGFLG_SYNC_REQUEST | ALPC_MSGFLG_RELEASE_MESSAGE,
                                               &message.Header, NULL, &message.Header, &length, NULL, NULL),
                     STATUS_INVALID_PARAMETER_2);
        request(port, "good", "ok:good");
        NtClose(port);
    } else if (strcmp(which, "big") == 0) {
        HANDLE port = connect_port(name, ALPC_MSGFLG_SYNC_REQUEST);
        char text[101];
        memset(text, 'x', 100);
        text[100] = 0;
        char expected[104];
        snprintf(expected, sizeof expected, "ok:%s", text);
        request(port, text, expected);
        NtClose(port);
    } else if (strcmp(which, "die") == 0) {
        /* Connects, sends one request, and is killed while waiting for a reply that never comes. */
        HANDLE port = connect_port(name, ALPC_MSGFLG_SYNC_REQUEST);
        MESSAGE message;
        RtlZeroMemory(&message, sizeof message);
        set_data(&message, "dying", 5);
        SIZE_T length = sizeof message;
        NtAlpcSendWaitReceivePort(port, ALPC_MSGFLG_SYNC_REQUEST, &message.Header, NULL, &message.Header, &length,
                                  NULL, NULL);
    } else if (strcmp(which, "disconnected") == 0) {
        /* The server closes our communication port: the next request fails. */
        HANDLE port = connect_port(name, ALPC_MSGFLG_SYNC_REQUEST);
        request(port, "one", "ok:one");
        MESSAGE message;
        RtlZeroMemory(&message, sizeof message);
        set_data(&message, "two", 3);
        SIZE_T length = sizeof message;
        LARGE_INTEGER timeout = capi_ms(5000);
        NTSTATUS status = NtAlpcSendWaitReceivePort(port, ALPC_MSGFLG_SYNC_REQUEST, &message.Header, NULL,
                                                    &message.Header, &length, NULL, &timeout);
        CHECK(status == STATUS_PORT_DISCONNECTED, "after the server closed the communication port: %s",
              AlpcStatusName(status));
        NtClose(port);
    } else if (strcmp(which, "async") == 0) {
        /* Connect without SYNC_REQUEST: the answer comes as LPC_CONNECTION_REPLY. */
        set_port_name(name);
        MESSAGE message;
        RtlZeroMemory(&message, sizeof message);
        set_data(&message, "hello async", 11);
        HANDLE port = NULL;
        CHECK_STATUS(NtAlpcConnectPort(&port, &usPortName, NULL, NULL, 0, NULL, &message.Header, NULL, NULL, NULL, NULL),
                     STATUS_SUCCESS);
        RtlZeroMemory(&message, sizeof message);
        SIZE_T length = sizeof message;
        LARGE_INTEGER timeout = capi_ms(10000);
        CHECK_STATUS(NtAlpcSendWaitReceivePort(port, 0, NULL, NULL, &message.Header, &length, NULL, &timeout),
                     STATUS_SUCCESS);
        CHECK(LOBYTE(message.Header.u2.s2.Type) == LPC_CONNECTION_REPLY, "type 0x%x",
              (unsigned)message.Header.u2.s2.Type);
        CHECK(message.Header.u1.s1.DataLength == 9 && memcmp(message.Data, "welcome !", 9) == 0, "data <%.*s>",
              message.Header.u1.s1.DataLength, (char *)message.Data);
        request(port, "after", "ok:after");
        NtClose(port);
    } else if (strcmp(which, "async-refused") == 0) {
        set_port_name(name);
        HANDLE port = NULL;
        CHECK_STATUS(NtAlpcConnectPort(&port, &usPortName, NULL, NULL, 0, NULL, NULL, NULL, NULL, NULL, NULL),
                     STATUS_SUCCESS);
        MESSAGE message;
        SIZE_T length = sizeof message;
        LARGE_INTEGER timeout = capi_ms(10000);
        CHECK_STATUS(NtAlpcSendWaitReceivePort(port, 0, NULL, NULL, &message.Header, &length, NULL, &timeout),
                     STATUS_PORT_CONNECTION_REFUSED);
        NtClose(port);
    } else if (strcmp(which, "thread") == 0) {
        /* A request from a second thread, for NtAlpcOpenSenderThread. */
        HANDLE port = connect_port(name, ALPC_MSGFLG_SYNC_REQUEST);
        HANDLE thread = NULL;
        CHECK_STATUS(NtCreateThreadEx(&thread, THREAD_ALL_ACCESS, NULL, NtCurrentProcess(), sender_thread, port, 0, 0,
                                      0, 0, NULL),
                     STATUS_SUCCESS);
        LARGE_INTEGER timeout = capi_ms(10000);
        CHECK_STATUS(NtWaitForSingleObject(thread, FALSE, &timeout), STATUS_WAIT_0);
        CHECK_STATUS(NtClose(thread), STATUS_SUCCESS);
        request(port, "done", "ok:done");
        NtClose(port);
    } else if (strcmp(which, "cancel") == 0) {
        /* An asynchronous request, cancelled: its reply never shows. Then a datagram. */
        HANDLE port = connect_port(name, ALPC_MSGFLG_SYNC_REQUEST);
        MESSAGE message;
        RtlZeroMemory(&message, sizeof message);
        set_data(&message, "cancel me", 9);
        ATTRIBUTES sendAttributes;
        init_attributes(&sendAttributes, ALPC_MESSAGE_CONTEXT_ATTRIBUTE);
        CHECK_STATUS(NtAlpcSendWaitReceivePort(port, 0, &message.Header, &sendAttributes.Header, NULL, NULL, NULL, NULL),
                     STATUS_SUCCESS);
        ALPC_CONTEXT_ATTR *context = AlpcGetMessageAttribute(&sendAttributes.Header, ALPC_MESSAGE_CONTEXT_ATTRIBUTE);
        CHECK(context->MessageId != 0, "no request id");
        CHECK_STATUS(NtAlpcCancelMessage(port, 0, context), STATUS_SUCCESS);
        ALPC_CONTEXT_ATTR unknown = *context;
        unknown.MessageId += 1000;
        CHECK_STATUS(NtAlpcCancelMessage(port, 0, &unknown), STATUS_INVALID_MESSAGE);
        /* The server replies late; nothing arrives. */
        SIZE_T length = sizeof message;
        LARGE_INTEGER timeout = capi_ms(700);
        CHECK_STATUS(NtAlpcSendWaitReceivePort(port, 0, NULL, NULL, &message.Header, &length, NULL, &timeout),
                     STATUS_TIMEOUT);
        /* The connection still works: a datagram, then a request. */
        RtlZeroMemory(&message, sizeof message);
        set_data(&message, "datagram", 8);
        CHECK_STATUS(NtAlpcSendWaitReceivePort(port, ALPC_MSGFLG_RELEASE_MESSAGE, &message.Header, NULL, NULL, NULL,
                                               NULL, NULL),
                     STATUS_SUCCESS);
        request(port, "after", "ok:after");
        NtClose(port);
    } else if (strcmp(which, "nobody") == 0) {
        if (getuid() == 0) CHECK(setgroups(0, NULL) == 0 && setgid(65534) == 0 && setuid(65534) == 0, "drop to nobody");
        HANDLE port = connect_port(name, ALPC_MSGFLG_SYNC_REQUEST);
        request(port, "who am i", "ok:who am i");
        NtClose(port);
    } else {
        fprintf(stderr, "unknown client %s\n", which);
        return 2;
    }
    return 0;
}

/* ---------------------------------------------------------------------------------------
 * Cases (server side)
 * ------------------------------------------------------------------------------------- */

static void case_timeouts(void) {
    HANDLE port = create_port("timeouts", 0, NULL);
    MESSAGE message;
    SIZE_T length = sizeof message;
    CHECK(NT_SUCCESS(STATUS_TIMEOUT), "STATUS_TIMEOUT is a success code");

    LARGE_INTEGER zero = {.QuadPart = 0};
    long long start = capi_now_ms();
    CHECK_STATUS(NtAlpcSendWaitReceivePort(port, 0, NULL, NULL, &message.Header, &length, NULL, &zero), STATUS_TIMEOUT);
    CHECK(capi_now_ms() - start < 100, "a zero timeout polls (took %lld ms)", capi_now_ms() - start);

    LARGE_INTEGER relative = capi_ms(150);
    start = capi_now_ms();
    CHECK_STATUS(NtAlpcSendWaitReceivePort(port, 0, NULL, NULL, &message.Header, &length, NULL, &relative),
                 STATUS_TIMEOUT);
    long long waited = capi_now_ms() - start;
    CHECK(waited >= 140 && waited < 2000, "a relative 150 ms timeout waited %lld ms", waited);

    /* Absolute: 100 ns units since 1601-01-01 UTC. */
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    LARGE_INTEGER absolute;
    absolute.QuadPart = 116444736000000000LL + (LONGLONG)now.tv_sec * 10000000 + now.tv_nsec / 100 + 200 * 10000;
    start = capi_now_ms();
    CHECK_STATUS(NtAlpcSendWaitReceivePort(port, 0, NULL, NULL, &message.Header, &length, NULL, &absolute),
                 STATUS_TIMEOUT);
    waited = capi_now_ms() - start;
    CHECK(waited >= 150 && waited < 2000, "an absolute timeout 200 ms ahead waited %lld ms", waited);

    /* An absolute time already past polls. */
    absolute.QuadPart = 116444736000000000LL;
    CHECK_STATUS(NtAlpcSendWaitReceivePort(port, 0, NULL, NULL, &message.Header, &length, NULL, &absolute),
                 STATUS_TIMEOUT);

    /* NULL waits until a message comes (a client connects after 300 ms). */
    pid_t pid = spawn_client("late");
    length = sizeof message;
    CHECK_STATUS(NtAlpcSendWaitReceivePort(port, 0, NULL, NULL, &message.Header, &length, NULL, NULL), STATUS_SUCCESS);
    CHECK(LOBYTE(message.Header.u2.s2.Type) == LPC_CONNECTION_REQUEST, "type 0x%x", (unsigned)message.Header.u2.s2.Type);
    HANDLE communication = NULL;
    CHECK_STATUS(NtAlpcAcceptConnectPort(&communication, port, 0, NULL, NULL, NULL, &message.Header, NULL, TRUE),
                 STATUS_SUCCESS);
    expect_exit(pid, "late client");
    NtClose(communication);
    NtClose(port);
}

static void case_buffer_length(void) {
    HANDLE port = create_port("buffer", 0, NULL);
    pid_t pid = spawn_client("big");
    HANDLE communication = accept_next(port, NULL);
    MESSAGE message;
    memset(&message, 0xAB, sizeof message);
    SIZE_T length = sizeof(PORT_MESSAGE) + 10;
    LARGE_INTEGER timeout = capi_ms(10000);
    CHECK_STATUS(NtAlpcSendWaitReceivePort(port, 0, NULL, NULL, &message.Header, &length, NULL, &timeout),
                 STATUS_BUFFER_TOO_SMALL);
    CHECK(length == sizeof(PORT_MESSAGE) + 100, "required length %zu", (size_t)length);
    CHECK(message.Header.u1.Length == 0xABABABABu && message.Data[0] == 0xAB, "a refused receive wrote into the buffer");

    /* A ULONG length works the same, writing only its four bytes; the message waited. */
    struct {
        ULONG length;
        ULONG guard;
    } sized = {10, 0xFEEDFACE};
    CHECK_STATUS(NtAlpcSendWaitReceivePort(port, 0, NULL, NULL, &message.Header, &sized.length, NULL, &timeout),
                 STATUS_INVALID_PARAMETER_6);
    sized.length = sizeof(PORT_MESSAGE) + 50;
    CHECK_STATUS(NtAlpcSendWaitReceivePort(port, 0, NULL, NULL, &message.Header, &sized.length, NULL, &timeout),
                 STATUS_BUFFER_TOO_SMALL);
    CHECK(sized.length == sizeof(PORT_MESSAGE) + 100 && sized.guard == 0xFEEDFACE, "ULONG length %u, guard 0x%x",
          (unsigned)sized.length, (unsigned)sized.guard);
    sized.length = sizeof message;
    CHECK_STATUS(NtAlpcSendWaitReceivePort(port, 0, NULL, NULL, &message.Header, &sized.length, NULL, &timeout),
                 STATUS_SUCCESS);
    CHECK(message.Header.u1.s1.DataLength == 100 && message.Data[0] == 'x' && message.Data[99] == 'x',
          "the queued message, whole");
    reply_ok(port, &message);
    expect_exit(pid, "client");
    NtClose(communication);
    NtClose(port);
}

static void case_reply_ports(void) {
    HANDLE port = create_port("reply", 0, NULL);
    pid_t pid = spawn_client("requests-ex");
    HANDLE communication = accept_next(port, NULL);
    MESSAGE message;
    receive(port, &message, NULL);
    reply_ok(port, &message); /* on the connection port */
    receive(port, &message, NULL);
    reply_ok(communication, &message); /* on the communication port */
    expect_exit(pid, "client");
    /* A receive on a communication port is not supported. */
    SIZE_T length = sizeof message;
    LARGE_INTEGER zero = {.QuadPart = 0};
    CHECK_STATUS(NtAlpcSendWaitReceivePort(communication, 0, NULL, NULL, &message.Header, &length, NULL, &zero),
                 STATUS_INVALID_PARAMETER_5);
    NtClose(communication);
    NtClose(port);
}

static void expect_context(ATTRIBUTES *attributes, PVOID context) {
    CHECK(attributes->Header.ValidAttributes & ALPC_MESSAGE_CONTEXT_ATTRIBUTE, "no context attribute");
    ALPC_CONTEXT_ATTR *attribute = AlpcGetMessageAttribute(&attributes->Header, ALPC_MESSAGE_CONTEXT_ATTRIBUTE);
    CHECK(attribute->PortContext == context, "port context %p, expected %p", attribute->PortContext, context);
}

static void case_port_context(void) {
    HANDLE port = create_port("context", 0, NULL);
    PVOID context = (PVOID)(ULONG_PTR)0xC0FFEE;
    MESSAGE message;
    ATTRIBUTES attributes;

    pid_t pid = spawn_client("requests");
    HANDLE communication = accept_next(port, context);
    for (int i = 0; i < 2; i++) {
        init_attributes(&attributes, ALPC_MESSAGE_CONTEXT_ATTRIBUTE);
        receive(port, &message, &attributes);
        CHECK(LOBYTE(message.Header.u2.s2.Type) == LPC_REQUEST, "type 0x%x", (unsigned)message.Header.u2.s2.Type);
        expect_context(&attributes, context);
        reply_ok(port, &message);
    }
    init_attributes(&attributes, ALPC_MESSAGE_CONTEXT_ATTRIBUTE);
    receive(port, &message, &attributes);
    CHECK(LOBYTE(message.Header.u2.s2.Type) == LPC_PORT_CLOSED, "type 0x%x", (unsigned)message.Header.u2.s2.Type);
    expect_context(&attributes, context);
    expect_exit(pid, "client");
    NtClose(communication);

    /* A client killed while it waits: LPC_CLIENT_DIED, with the context too. */
    PVOID second = (PVOID)(ULONG_PTR)0xDEAD;
    pid = spawn_client("die");
    communication = accept_next(port, second);
    init_attributes(&attributes, ALPC_MESSAGE_CONTEXT_ATTRIBUTE);
    receive(port, &message, &attributes);
    CHECK(LOBYTE(message.Header.u2.s2.Type) == LPC_REQUEST, "type 0x%x", (unsigned)message.Header.u2.s2.Type);
    kill(pid, SIGKILL);
    CHECK(capi_wait(pid, 10) == 128 + SIGKILL, "the client was killed");
    init_attributes(&attributes, ALPC_MESSAGE_CONTEXT_ATTRIBUTE);
    receive(port, &message, &attributes);
    CHECK(LOBYTE(message.Header.u2.s2.Type) == LPC_CLIENT_DIED, "type 0x%x", (unsigned)message.Header.u2.s2.Type);
    expect_context(&attributes, second);
    NtClose(communication);
    NtClose(port);
}

typedef struct {
    HANDLE port;
    NTSTATUS status;
    long long returnedAt;
} BLOCKED_RECEIVE;

static NTSTATUS NTAPI blocked_receiver(PVOID context) {
    BLOCKED_RECEIVE *state = context;
    MESSAGE message;
    SIZE_T length = sizeof message;
    state->status = NtAlpcSendWaitReceivePort(state->port, 0, NULL, NULL, &message.Header, &length, NULL, NULL);
    state->returnedAt = capi_now_ms();
    return state->status;
}

static void case_close_wakes(void) {
    BLOCKED_RECEIVE state = {create_port("close", 0, NULL), STATUS_PENDING, 0};
    HANDLE thread = NULL;
    CHECK_STATUS(NtCreateThreadEx(&thread, THREAD_ALL_ACCESS, NULL, NtCurrentProcess(), blocked_receiver, &state, 0, 0,
                                  0, 0, NULL),
                 STATUS_SUCCESS);
    LARGE_INTEGER shortWait = capi_ms(200);
    CHECK_STATUS(NtWaitForSingleObject(thread, FALSE, &shortWait), STATUS_TIMEOUT);
    long long closedAt = capi_now_ms();
    CHECK_STATUS(NtClose(state.port), STATUS_SUCCESS);
    LARGE_INTEGER timeout = capi_ms(5000);
    CHECK_STATUS(NtWaitForSingleObject(thread, FALSE, &timeout), STATUS_WAIT_0);
    CHECK(!NT_SUCCESS(state.status), "the blocked receive returned %s", AlpcStatusName(state.status));
    CHECK(state.status == STATUS_PORT_DISCONNECTED, "the blocked receive returned %s", AlpcStatusName(state.status));
    CHECK(state.returnedAt - closedAt < 1000, "woken after %lld ms", state.returnedAt - closedAt);
    CHECK_STATUS(NtClose(thread), STATUS_SUCCESS);
    CHECK_STATUS(NtClose(state.port), STATUS_INVALID_HANDLE);
}

static void case_close_communication(void) {
    HANDLE port = create_port("closecomm", 0, NULL);
    pid_t pid = spawn_client("disconnected");
    HANDLE communication = accept_next(port, NULL);
    MESSAGE message;
    receive(port, &message, NULL);
    reply_ok(port, &message);
    CHECK_STATUS(NtClose(communication), STATUS_SUCCESS);
    expect_exit(pid, "client");
    NtClose(port);
}

static void case_waitable(void) {
    /* Not waitable: no descriptor, and waiting is a type mismatch. */
    HANDLE plain = create_port("plain", 0, NULL);
    CHECK(AlpcGetPortDescriptor(plain) == -1, "a plain port has no descriptor");
    LARGE_INTEGER zero = {.QuadPart = 0};
    CHECK_STATUS(NtWaitForSingleObject(plain, FALSE, &zero), STATUS_OBJECT_TYPE_MISMATCH);
    NtClose(plain);

    HANDLE port = create_port("waitable", ALPC_PORFLG_WAITABLE_PORT, NULL);
    int fd = AlpcGetPortDescriptor(port);
    CHECK(fd >= 0, "a waitable port has a descriptor");
    int epoll = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event event = {.events = EPOLLIN, .data = {.u64 = 7}};
    CHECK(epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event) == 0, "epoll_ctl: %s", strerror(errno));
    CHECK_STATUS(NtWaitForSingleObject(port, FALSE, &zero), STATUS_TIMEOUT);
    CHECK(epoll_wait(epoll, &event, 1, 0) == 0, "readable with nothing queued");

    pid_t pid = spawn_client("requests");
    LARGE_INTEGER timeout = capi_ms(10000);
    CHECK_STATUS(NtWaitForSingleObject(port, FALSE, &timeout), STATUS_WAIT_0);
    /* Signalled until the message is received: waiting again returns at once. */
    CHECK_STATUS(NtWaitForSingleObject(port, FALSE, &zero), STATUS_WAIT_0);
    CHECK(epoll_wait(epoll, &event, 1, 1000) == 1 && event.data.u64 == 7, "epoll sees the connection request");
    MESSAGE message;
    SIZE_T length = sizeof message;
    CHECK_STATUS(NtAlpcSendWaitReceivePort(port, 0, NULL, NULL, &message.Header, &length, NULL, &zero), STATUS_SUCCESS);
    CHECK(LOBYTE(message.Header.u2.s2.Type) == LPC_CONNECTION_REQUEST, "type 0x%x", (unsigned)message.Header.u2.s2.Type);
    HANDLE communication = NULL;
    CHECK_STATUS(NtAlpcAcceptConnectPort(&communication, port, 0, NULL, NULL, NULL, &message.Header, NULL, TRUE),
                 STATUS_SUCCESS);
    /* The client's requests, each announced by the descriptor before it is received. */
    for (int i = 0; i < 2; i++) {
        CHECK(epoll_wait(epoll, &event, 1, 10000) == 1, "epoll sees request %d", i + 1);
        length = sizeof message;
        NTSTATUS status;
        long long deadline = capi_now_ms() + 2000;
        /* Readable means a receive may find a message: poll until it does. */
        while ((status = NtAlpcSendWaitReceivePort(port, 0, NULL, NULL, &message.Header, &length, NULL, &zero)) ==
                   STATUS_TIMEOUT &&
               capi_now_ms() < deadline) {
            epoll_wait(epoll, &event, 1, 100);
        }
        CHECK_STATUS(status, STATUS_SUCCESS);
        CHECK(LOBYTE(message.Header.u2.s2.Type) == LPC_REQUEST, "type 0x%x", (unsigned)message.Header.u2.s2.Type);
        reply_ok(port, &message);
    }
    CHECK_STATUS(NtWaitForSingleObject(port, FALSE, &timeout), STATUS_WAIT_0); /* LPC_PORT_CLOSED */
    receive(port, &message, NULL);
    CHECK(LOBYTE(message.Header.u2.s2.Type) == LPC_PORT_CLOSED, "type 0x%x", (unsigned)message.Header.u2.s2.Type);
    CHECK_STATUS(NtWaitForSingleObject(port, FALSE, &zero), STATUS_TIMEOUT);
    expect_exit(pid, "client");
    close(epoll);
    NtClose(communication);
    NtClose(port);
}

static void case_waitable_client(void) {
    HANDLE port = create_port("waitable-client", 0, NULL);
    pid_t pid = spawn_client("waitable-client");
    HANDLE communication = accept_next(port, NULL);
    MESSAGE message;
    receive(port, &message, NULL);
    CHECK(LOBYTE(message.Header.u2.s2.Type) == LPC_REQUEST, "type 0x%x", (unsigned)message.Header.u2.s2.Type);
    Sleep(200);
    reply_ok(port, &message);
    receive(port, &message, NULL);
    CHECK(LOBYTE(message.Header.u2.s2.Type) == LPC_PORT_CLOSED, "type 0x%x", (unsigned)message.Header.u2.s2.Type);
    expect_exit(pid, "client");
    NtClose(communication);
    NtClose(port);
}

static void case_async_connect(void) {
    HANDLE port = create_port("async", 0, NULL);
    pid_t pid = spawn_client("async");
    MESSAGE message;
    receive(port, &message, NULL);
    CHECK(LOBYTE(message.Header.u2.s2.Type) == LPC_CONNECTION_REQUEST, "type 0x%x", (unsigned)message.Header.u2.s2.Type);
    CHECK(message.Header.u1.s1.DataLength == 11 && memcmp(message.Data, "hello async", 11) == 0, "connect data");
    set_data(&message, "welcome !", 9);
    HANDLE communication = NULL;
    CHECK_STATUS(NtAlpcAcceptConnectPort(&communication, port, 0, NULL, NULL, NULL, &message.Header, NULL, TRUE),
                 STATUS_SUCCESS);
    receive(port, &message, NULL);
    reply_ok(port, &message);
    expect_exit(pid, "client");
    NtClose(communication);

    /* Refused: the client's receive reports it. */
    pid = spawn_client("async-refused");
    receive(port, &message, NULL);
    CHECK(LOBYTE(message.Header.u2.s2.Type) == LPC_CONNECTION_REQUEST, "type 0x%x", (unsigned)message.Header.u2.s2.Type);
    CHECK_STATUS(NtAlpcAcceptConnectPort(NULL, port, 0, NULL, NULL, NULL, &message.Header, NULL, FALSE), STATUS_SUCCESS);
    expect_exit(pid, "refused client");
    NtClose(port);
}

/* The "Pid:" of a pidfd, from /proc/self/fdinfo. */
static long pidfd_pid(HANDLE handle) {
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/self/fdinfo/%d", (int)(intptr_t)handle);
    FILE *file = fopen(path, "r");
    CHECK(file != NULL, "%s", path);
    long pid = -1;
    while (fgets(line, sizeof line, file))
        if (strncmp(line, "Pid:", 4) == 0) pid = strtol(line + 4, NULL, 10);
    fclose(file);
    return pid;
}

static void case_information(void) {
    HANDLE port = create_port("info", ALPC_PORFLG_ALLOW_LPC_REQUESTS, NULL);
    PVOID context = (PVOID)(ULONG_PTR)0x5150;
    pid_t pid = spawn_client("thread");
    MESSAGE message;
    receive(port, &message, NULL);
    HANDLE communication = NULL;
    ALPC_PORT_ATTRIBUTES acceptAttributes;
    RtlZeroMemory(&acceptAttributes, sizeof acceptAttributes);
    acceptAttributes.Flags = ALPC_PORFLG_ALLOW_DUP_OBJECT;
    acceptAttributes.MaxMessageLength = sizeof(MESSAGE);
    CHECK_STATUS(NtAlpcAcceptConnectPort(&communication, port, 0, NULL, &acceptAttributes, context, &message.Header,
                                         NULL, TRUE),
                 STATUS_SUCCESS);

    ALPC_BASIC_INFORMATION basic;
    ULONG returned = 0;
    CHECK_STATUS(NtAlpcQueryInformation(communication, AlpcBasicInformation, &basic, sizeof basic, &returned),
                 STATUS_SUCCESS);
    CHECK(returned == sizeof basic && basic.PortContext == context && basic.Flags == ALPC_PORFLG_ALLOW_DUP_OBJECT,
          "basic information {Flags 0x%x, PortContext %p}", (unsigned)basic.Flags, basic.PortContext);
    ALPC_BASIC_INFORMATION connection;
    CHECK_STATUS(NtAlpcQueryInformation(port, AlpcBasicInformation, &connection, sizeof connection, NULL),
                 STATUS_SUCCESS);
    CHECK(connection.Flags == ALPC_PORFLG_ALLOW_LPC_REQUESTS && connection.PortContext == NULL &&
              connection.SequenceNo != basic.SequenceNo,
          "connection port {Flags 0x%x, SequenceNo %u}", (unsigned)connection.Flags, (unsigned)connection.SequenceNo);
    CHECK_STATUS(NtAlpcQueryInformation(port, AlpcBasicInformation, &connection, 4, &returned),
                 STATUS_INFO_LENGTH_MISMATCH);
    CHECK_STATUS(NtAlpcQueryInformation(port, AlpcMessageZoneInformation, &connection, sizeof connection, NULL),
                 STATUS_INVALID_INFO_CLASS);

    /* The request from the client's second thread. */
    receive(port, &message, NULL);
    CHECK(LOBYTE(message.Header.u2.s2.Type) == LPC_REQUEST, "type 0x%x", (unsigned)message.Header.u2.s2.Type);
    UCHAR sid[64];
    CHECK_STATUS(NtAlpcQueryInformationMessage(port, &message.Header, AlpcMessageSidInformation, sid, 4, &returned),
                 STATUS_BUFFER_TOO_SMALL);
    CHECK_STATUS(NtAlpcQueryInformationMessage(port, &message.Header, AlpcMessageSidInformation, sid, sizeof sid,
                                               &returned),
                 STATUS_SUCCESS);
    ULONG uid = getuid();
    if (uid == 0) {
        const UCHAR system[] = {1, 1, 0, 0, 0, 0, 0, 5, 18, 0, 0, 0};
        CHECK(returned == sizeof system && memcmp(sid, system, sizeof system) == 0, "root's SID is S-1-5-18");
    } else {
        CHECK(returned == 16 && sid[7] == 22 && *(ULONG *)(sid + 12) == uid, "the SID is S-1-22-1-%u", (unsigned)uid);
    }
    LUID modified;
    CHECK_STATUS(NtAlpcQueryInformationMessage(port, &message.Header, AlpcMessageTokenModifiedIdInformation, &modified,
                                               sizeof modified, NULL),
                 STATUS_SUCCESS);
    CHECK(modified.LowPart == (ULONG)pid, "modified id %u, client %d", (unsigned)modified.LowPart, (int)pid);

    HANDLE process = NULL, thread = NULL;
    CHECK_STATUS(NtAlpcOpenSenderProcess(&process, port, &message.Header, 0, PROCESS_ALL_ACCESS, NULL), STATUS_SUCCESS);
    CHECK(pidfd_pid(process) == pid, "the process handle is the client's (%ld)", pidfd_pid(process));
    NTSTATUS threadStatus = NtAlpcOpenSenderThread(&thread, port, &message.Header, 0, THREAD_ALL_ACCESS, NULL);
    CHECK(threadStatus == STATUS_SUCCESS || threadStatus == STATUS_NOT_SUPPORTED, "open sender thread: %s",
          AlpcStatusName(threadStatus));
    if (threadStatus == STATUS_SUCCESS) {
        long tid = (long)(intptr_t)message.Header.ClientId.UniqueThread;
        CHECK(tid != pid && pidfd_pid(thread) == tid, "the thread handle is the sending thread's (%ld, %ld)",
              pidfd_pid(thread), tid);
        reply_ok(port, &message);
        LARGE_INTEGER timeout = capi_ms(10000);
        CHECK_STATUS(NtWaitForSingleObject(thread, FALSE, &timeout), STATUS_WAIT_0); /* it ended */
        CHECK_STATUS(NtClose(thread), STATUS_SUCCESS);
    } else {
        printf("  (this kernel has no thread pidfds: NtAlpcOpenSenderThread said STATUS_NOT_SUPPORTED)\n");
        reply_ok(port, &message);
    }
    receive(port, &message, NULL);
    reply_ok(port, &message);
    LARGE_INTEGER zero = {.QuadPart = 0};
    receive(port, &message, NULL); /* LPC_PORT_CLOSED */
    expect_exit(pid, "client");
    LARGE_INTEGER timeout = capi_ms(5000);
    CHECK_STATUS(NtWaitForSingleObject(process, FALSE, &timeout), STATUS_WAIT_0); /* the process ended */
    (void)zero;
    CHECK_STATUS(NtClose(process), STATUS_SUCCESS);
    NtClose(communication);
    NtClose(port);
}

/* A self-relative security descriptor with a NULL DACL: everyone may connect. */
static UCHAR everyone[20] = {1, 0, 0x04, 0x80};

static void case_impersonation(void) {
    HANDLE port = create_port("impersonate", 0, everyone);
    /* Run as root, the client drops to nobody (65534) once started, before it connects. */
    BOOLEAN asOther = getuid() == 0;
    pid_t pid = spawn_client("nobody");
    HANDLE communication = accept_next(port, NULL);
    MESSAGE message;
    receive(port, &message, NULL);
    CHECK_STATUS(NtAlpcImpersonateClientOfPort(port, &message.Header, NULL), STATUS_SUCCESS);
    char path[64];
    snprintf(path, sizeof path, "/tmp/capi-impersonated-%d", (int)getpid());
    int fd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0600);
    CHECK(fd >= 0, "create as the client: %s", strerror(errno));
    close(fd);
    struct stat info;
    CHECK(stat(path, &info) == 0, "stat");
    unlink(path);
    CHECK_STATUS(AlpcRevertToSelf(), STATUS_SUCCESS);
    ULONG expectedUid = asOther ? 65534 : getuid();
    CHECK(info.st_uid == expectedUid, "the file belongs to %u, expected %u", (unsigned)info.st_uid,
          (unsigned)expectedUid);
    fd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0600);
    CHECK(fd >= 0 && fstat(fd, &info) == 0 && info.st_uid == getuid(), "reverted");
    close(fd);
    unlink(path);
    reply_ok(port, &message);
    expect_exit(pid, "client");
    NtClose(communication);

    /* A client whose QoS is below SecurityImpersonation cannot be impersonated. */
    pid = spawn_client("identify-only");
    communication = accept_next(port, NULL);
    receive(port, &message, NULL);
    CHECK_STATUS(NtAlpcImpersonateClientOfPort(port, &message.Header, NULL), STATUS_BAD_IMPERSONATION_LEVEL);
    reply_ok(port, &message);
    expect_exit(pid, "client");
    NtClose(communication);
    NtClose(port);
}

static void case_cancel(void) {
    HANDLE port = create_port("cancel", 0, NULL);
    pid_t pid = spawn_client("cancel");
    HANDLE communication = accept_next(port, NULL);
    MESSAGE message;
    receive(port, &message, NULL);
    CHECK(LOBYTE(message.Header.u2.s2.Type) == LPC_REQUEST, "type 0x%x", (unsigned)message.Header.u2.s2.Type);
    Sleep(100);
    reply_ok(port, &message); /* dropped by the client, which cancelled it */
    receive(port, &message, NULL);
    CHECK(LOBYTE(message.Header.u2.s2.Type) == LPC_DATAGRAM, "type 0x%x", (unsigned)message.Header.u2.s2.Type);
    receive(port, &message, NULL);
    reply_ok(port, &message);
    expect_exit(pid, "client");
    NtClose(communication);
    NtClose(port);
}

static void case_sections_and_contexts(void) {
    HANDLE port = create_port("sections", 0, NULL);
    ALPC_HANDLE section = NULL;
    ULONG actual = 0; /* a ULONG length: the C _Generic selection */
    CHECK_STATUS(NtAlpcCreatePortSection(port, 0, NULL, 5000, &section, &actual), STATUS_SUCCESS);
    CHECK(section != NULL && actual == 8192, "section %p of %u bytes", section, (unsigned)actual);
    ALPC_DATA_VIEW_ATTR view = {0, section, NULL, 0};
    CHECK_STATUS(NtAlpcCreateSectionView(port, 0, &view), STATUS_SUCCESS);
    CHECK(view.ViewBase != NULL && view.ViewSize == 8192, "view %p of %zu", view.ViewBase, (size_t)view.ViewSize);
    memset(view.ViewBase, 0x5A, view.ViewSize);
    ALPC_DATA_VIEW_ATTR bad = {0, (ALPC_HANDLE)(ULONG_PTR)0x7777777, NULL, 0};
    CHECK_STATUS(NtAlpcCreateSectionView(port, 0, &bad), STATUS_INVALID_HANDLE);
    CHECK_STATUS(NtAlpcCreatePortSection(port, 0, NULL, 0, &section, NULL), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(NtAlpcDeleteSectionView(port, 0, view.ViewBase), STATUS_SUCCESS);
    CHECK_STATUS(NtAlpcDeleteSectionView(port, 0, view.ViewBase), STATUS_INVALID_PARAMETER);
    CHECK_STATUS(NtAlpcDeletePortSection(port, 0, section), STATUS_SUCCESS);
    CHECK_STATUS(NtAlpcDeletePortSection(port, 0, section), STATUS_INVALID_HANDLE);

    ALPC_SECURITY_ATTR security;
    RtlZeroMemory(&security, sizeof security);
    CHECK_STATUS(NtAlpcCreateSecurityContext(port, 0, &security), STATUS_SUCCESS);
    CHECK(security.ContextHandle != NULL, "a context handle");
    CHECK_STATUS(NtAlpcDeleteSecurityContext(port, 0, security.ContextHandle), STATUS_SUCCESS);
    CHECK_STATUS(NtAlpcDeleteSecurityContext(port, 0, security.ContextHandle), STATUS_INVALID_HANDLE);
    NtClose(port);
}

typedef struct {
    int before;
    ULONG field;
} RECORD;

static NTSTATUS NTAPI set_flag(PVOID context) {
    *(volatile int *)context = 42;
    return STATUS_SUCCESS;
}

static void case_basics(void) {
    /* The helpers are exported: dlsym finds them. */
    ULONG (*getHeaderSize)(ULONG) = (ULONG(*)(ULONG))dlsym(RTLD_DEFAULT, "AlpcGetHeaderSize");
    ULONG (*maxLength)(void) = (ULONG(*)(void))dlsym(RTLD_DEFAULT, "AlpcMaxAllowedMessageLength");
    CHECK(getHeaderSize && dlsym(RTLD_DEFAULT, "AlpcInitializeMessageAttribute") &&
              dlsym(RTLD_DEFAULT, "AlpcGetMessageAttribute") && maxLength,
          "dlsym of the helpers");
    CHECK(getHeaderSize(ALPC_MESSAGE_ATTRIBUTE_ALL) == 0xA0 && maxLength() == 0xFFFF, "helpers through dlsym");
    ULONG required = 0;
    CHECK_STATUS(AlpcInitializeMessageAttribute(ALPC_MESSAGE_CONTEXT_ATTRIBUTE, NULL, 0, &required),
                 STATUS_BUFFER_TOO_SMALL);
    CHECK(required == 8 + sizeof(ALPC_CONTEXT_ATTR), "ULONG required size %u", (unsigned)required);

    CHECK(RtlNtStatusToDosError(STATUS_SUCCESS) == 0 && RtlNtStatusToDosError(STATUS_ACCESS_DENIED) == 5 &&
              RtlNtStatusToDosError(STATUS_INVALID_HANDLE) == 6 && RtlNtStatusToDosError(STATUS_TIMEOUT) == 258 &&
              RtlNtStatusToDosError(STATUS_LPC_REPLY_LOST) == 317,
          "RtlNtStatusToDosError");

    PVOID heap = RtlProcessHeap();
    UCHAR *memory = RtlAllocateHeap(heap, HEAP_ZERO_MEMORY, 4096);
    CHECK(memory != NULL && memory[0] == 0 && memory[4095] == 0, "zeroed heap memory");
    RtlFillMemory(memory, 16, 0x7F);
    CHECK(memory[15] == 0x7F, "RtlFillMemory");
    RtlSecureZeroMemory(memory, 16);
    CHECK(memory[15] == 0, "RtlSecureZeroMemory");
    RtlCopyMemory(memory, "abc", 3);
    CHECK(memcmp(memory, "abc", 3) == 0, "RtlCopyMemory");
    CHECK(RtlFreeHeap(heap, 0, memory), "RtlFreeHeap");
    CHECK(!RtlFreeHeap((PVOID)(ULONG_PTR)0x1234, 0, NULL), "another heap");

    RECORD record;
    CHECK(CONTAINING_RECORD(&record.field, RECORD, field) == &record, "CONTAINING_RECORD");
    CHECK(LOBYTE(0x2001) == 1 && LOBYTE(0x300a) == 10, "LOBYTE");

    UNICODE_STRING string;
    RtlInitUnicodeString(&string, L"\\RPC Control\\x");
    CHECK(string.Length == 14 * sizeof(WCHAR) && string.MaximumLength == 15 * sizeof(WCHAR), "RtlInitUnicodeString");
    UNICODE_STRING constant = RTL_CONSTANT_STRING(L"abc");
    CHECK(constant.Length == 3 * sizeof(WCHAR) && constant.MaximumLength == 4 * sizeof(WCHAR), "RTL_CONSTANT_STRING");
    OBJECT_ATTRIBUTES objectAttributes;
    InitializeObjectAttributes(&objectAttributes, &string, OBJ_CASE_INSENSITIVE, NULL, NULL);
    CHECK(objectAttributes.Length == sizeof objectAttributes && objectAttributes.ObjectName == &string,
          "InitializeObjectAttributes");

    long long start = capi_now_ms();
    Sleep(50);
    CHECK(capi_now_ms() - start >= 45, "Sleep(50)");

    volatile int flag = 0;
    HANDLE thread = NULL;
    CHECK_STATUS(NtCreateThreadEx(&thread, THREAD_ALL_ACCESS, NULL, NtCurrentProcess(), set_flag, (PVOID)&flag, 0, 0,
                                  256 * 1024, 0, NULL),
                 STATUS_SUCCESS);
    LARGE_INTEGER timeout = capi_ms(5000);
    CHECK_STATUS(NtWaitForSingleObject(thread, FALSE, &timeout), STATUS_WAIT_0);
    CHECK(flag == 42, "the thread ran");
    CHECK_STATUS(NtClose(thread), STATUS_SUCCESS);
    CHECK_STATUS(NtCreateThreadEx(&thread, THREAD_ALL_ACCESS, NULL, NtCurrentProcess(), set_flag, (PVOID)&flag,
                                  THREAD_CREATE_FLAGS_CREATE_SUSPENDED, 0, 0, 0, NULL),
                 STATUS_NOT_SUPPORTED);

    CHECK_STATUS(NtClose(NtCurrentProcess()), STATUS_SUCCESS);
    CHECK_STATUS(NtClose((HANDLE)(intptr_t)100000), STATUS_INVALID_HANDLE);
    CHECK_STATUS(NtClose(NULL), STATUS_INVALID_HANDLE);
    MESSAGE message;
    SIZE_T length = sizeof message;
    CHECK_STATUS(NtAlpcSendWaitReceivePort((HANDLE)(intptr_t)100000, 0, NULL, NULL, &message.Header, &length, NULL,
                                           NULL),
                 STATUS_INVALID_HANDLE);
    UNICODE_STRING missing = RTL_CONSTANT_STRING(L"\\RPC Control\\capi-nobody-listens");
    HANDLE port = NULL;
    LARGE_INTEGER shortTimeout = capi_ms(1000);
    CHECK_STATUS(NtAlpcConnectPort(&port, &missing, NULL, NULL, ALPC_MSGFLG_SYNC_REQUEST, NULL, NULL, NULL, NULL, NULL,
                                   &shortTimeout),
                 STATUS_OBJECT_NAME_NOT_FOUND);
}

static void case_bad_input(void) {
    HANDLE port = create_port("bad", 0, NULL);
    HANDLE communication = NULL;
    MESSAGE message;
    RtlZeroMemory(&message, sizeof message);
    LARGE_INTEGER zero = {.QuadPart = 0};
    SIZE_T length = sizeof message;

    /* A client whose requests have lengths that disagree is refused, then served. */
    pid_t pid = spawn_client("bad-lengths");
    communication = accept_next(port, NULL);
    receive(port, &message, NULL);
    CHECK(LOBYTE(message.Header.u2.s2.Type) == LPC_REQUEST && message.Header.u1.s1.DataLength == 4,
          "only the well-formed request arrives");
    reply_ok(port, &message);
    expect_exit(pid, "client");
    NtClose(communication);
    RtlZeroMemory(&message, sizeof message);
    /* A reply with MessageId 0, and one to a request that never came. */
    message.Header.u1.s1.TotalLength = (CSHORT)sizeof(PORT_MESSAGE);
    NTSTATUS status = NtAlpcSendWaitReceivePort(port, 0, &message.Header, NULL, NULL, NULL, NULL, NULL);
    CHECK(status == STATUS_INVALID_PARAMETER, "a reply with MessageId 0: %s", AlpcStatusName(status));
    message.Header.u1.s1.TotalLength = (CSHORT)sizeof(PORT_MESSAGE);
    message.Header.MessageId = 12345;
    CHECK_STATUS(NtAlpcSendWaitReceivePort(port, 0, &message.Header, NULL, NULL, NULL, NULL, NULL),
                 STATUS_INVALID_MESSAGE);
    /* Accepting or refusing a request that never came. */
    CHECK_STATUS(NtAlpcAcceptConnectPort(&communication, port, 0, NULL, NULL, NULL, &message.Header, NULL, TRUE),
                 STATUS_INVALID_MESSAGE);
    CHECK_STATUS(NtAlpcAcceptConnectPort(NULL, port, 0, NULL, NULL, NULL, &message.Header, NULL, FALSE),
                 STATUS_INVALID_MESSAGE);
    CHECK_STATUS(NtAlpcAcceptConnectPort(&communication, port, 0, NULL, NULL, NULL, NULL, NULL, TRUE),
                 STATUS_INVALID_PARAMETER_7);
    /* Handles that are not ports, or not handles at all. */
    int pipeFds[2];
    CHECK(pipe(pipeFds) == 0, "pipe");
    CHECK_STATUS(NtAlpcSendWaitReceivePort((HANDLE)(intptr_t)pipeFds[0], 0, NULL, NULL, &message.Header, &length, NULL,
                                           &zero),
                 STATUS_INVALID_HANDLE);
    CHECK_STATUS(NtAlpcAcceptConnectPort(&communication, (HANDLE)(intptr_t)pipeFds[0], 0, NULL, NULL, NULL,
                                         &message.Header, NULL, TRUE),
                 STATUS_INVALID_HANDLE);
    CHECK_STATUS(NtAlpcDisconnectPort(NULL, 0), STATUS_INVALID_HANDLE);
    CHECK_STATUS(NtAlpcQueryInformation(NtCurrentProcess(), AlpcBasicInformation, NULL, 0, NULL),
                 STATUS_INVALID_HANDLE);
    close(pipeFds[0]);
    close(pipeFds[1]);
    /* Missing pointers and names. */
    CHECK_STATUS(NtAlpcCreatePort(NULL, NULL, NULL), STATUS_INVALID_PARAMETER_1);
    HANDLE other = NULL;
    CHECK_STATUS(NtAlpcCreatePort(&other, NULL, NULL), STATUS_OBJECT_NAME_INVALID);
    CHECK_STATUS(NtAlpcConnectPort(&other, NULL, NULL, NULL, ALPC_MSGFLG_SYNC_REQUEST, NULL, NULL, NULL, NULL, NULL,
                                   &zero),
                 STATUS_OBJECT_NAME_INVALID);
    UNICODE_STRING bad = RTL_CONSTANT_STRING(L"no backslash at all");
    OBJECT_ATTRIBUTES attributes;
    InitializeObjectAttributes(&attributes, &bad, 0, NULL, NULL);
    status = NtAlpcCreatePort(&other, &attributes, NULL);
    if (NT_SUCCESS(status)) NtClose(other); /* a leading backslash is added, as PythonForWindows does */
    /* The same name twice. */
    OBJECT_ATTRIBUTES same;
    InitializeObjectAttributes(&same, &usPortName, 0, NULL, NULL);
    CHECK_STATUS(NtAlpcCreatePort(&other, &same, NULL), STATUS_OBJECT_NAME_COLLISION);
    /* A maximum message length out of range. */
    ALPC_PORT_ATTRIBUTES tooLong;
    RtlZeroMemory(&tooLong, sizeof tooLong);
    tooLong.MaxMessageLength = 0x10000;
    UNICODE_STRING fresh = RTL_CONSTANT_STRING(L"\\RPC Control\\capi-bad-length");
    InitializeObjectAttributes(&attributes, &fresh, 0, NULL, NULL);
    CHECK_STATUS(NtAlpcCreatePort(&other, &attributes, &tooLong), STATUS_INVALID_PARAMETER);
    NtClose(port);
}

/* Seconds of CPU this process has used. */
static double cpu_seconds(void) {
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    return (double)usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6 + (double)usage.ru_stime.tv_sec +
           usage.ru_stime.tv_usec / 1e6;
}

static void case_descriptor_exhaustion(void) {
    /* This server may hold few descriptors (a soft limit its clients raise again). */
    HANDLE port = create_port("fds", 0, NULL);
    struct rlimit limit, original;
    getrlimit(RLIMIT_NOFILE, &original);
    limit = original;
    limit.rlim_cur = 40;
    CHECK(setrlimit(RLIMIT_NOFILE, &limit) == 0, "setrlimit: %s", strerror(errno));

    enum { CLIENTS = 16 };
    pid_t pids[CLIENTS];
    for (int i = 0; i < CLIENTS; i++) pids[i] = spawn_client("hold");
    HANDLE communications[CLIENTS];
    int accepted = 0, refusedByApplication = 0;
    long long end = capi_now_ms() + 3500;
    double cpuBefore = cpu_seconds();
    long long wallBefore = capi_now_ms();
    while (capi_now_ms() < end) {
        MESSAGE message;
        SIZE_T length = sizeof message;
        LARGE_INTEGER timeout = capi_ms(100);
        NTSTATUS status = NtAlpcSendWaitReceivePort(port, 0, NULL, NULL, &message.Header, &length, NULL, &timeout);
        if (status == STATUS_TIMEOUT) continue;
        CHECK_STATUS(status, STATUS_SUCCESS);
        switch (LOBYTE(message.Header.u2.s2.Type)) {
        case LPC_CONNECTION_REQUEST:
            if (accepted < CLIENTS &&
                NtAlpcAcceptConnectPort(&communications[accepted], port, 0, NULL, NULL, NULL, &message.Header, NULL,
                                        TRUE) == STATUS_SUCCESS) {
                accepted++;
            } else {
                /* Accepting needs descriptors too (the segment, the doorbell); when it fails,
                 * the library has refused the client already, else the application does. */
                if (NtAlpcAcceptConnectPort(NULL, port, 0, NULL, NULL, NULL, &message.Header, NULL, FALSE) ==
                    STATUS_SUCCESS)
                    refusedByApplication++;
            }
            break;
        case LPC_REQUEST:
            reply_ok(port, &message);
            break;
        default:
            break;
        }
    }
    double cpu = cpu_seconds() - cpuBefore;
    double wall = (double)(capi_now_ms() - wallBefore) / 1000;
    int served = 0, refusedForResources = 0, refused = 0;
    for (int i = 0; i < CLIENTS; i++) {
        int status = capi_wait(pids[i], 20);
        if (status == 0) served++;
        else if (status == 3) refusedForResources++;
        else if (status == 4) refused++;
        else CHECK(0, "client %d ended with %d", i, status);
    }
    printf("  %d served, %d refused for lack of descriptors by the library, %d by the application; "
           "CPU %.2f s in %.2f s\n", served, refusedForResources, refused, cpu, wall);
    CHECK(served >= 1 && served == accepted, "%d clients served, %d accepted", served, accepted);
    CHECK(refused == refusedByApplication, "%d refused by the application, %d seen", refusedByApplication, refused);
    CHECK(served < CLIENTS, "the limit was never reached: the case tests nothing");
    CHECK(cpu < wall / 2, "the server spun: %.2f s of CPU in %.2f s", cpu, wall);
    setrlimit(RLIMIT_NOFILE, &original); /* (LeakSanitizer needs descriptors at exit) */
    for (int i = 0; i < accepted; i++) NtClose(communications[i]);

    /* Descriptors are back: a new client is served. */
    pid_t pid = spawn_client("requests");
    HANDLE communication = accept_next(port, NULL);
    MESSAGE message;
    for (int i = 0; i < 2; i++) {
        receive(port, &message, NULL);
        reply_ok(port, &message);
    }
    expect_exit(pid, "client after the exhaustion");
    NtClose(communication);
    NtClose(port);
}

/* The descriptors this process has open. */
static int open_descriptors(void) {
    DIR *directory = opendir("/proc/self/fd");
    CHECK(directory != NULL, "opendir /proc/self/fd");
    int count = 0;
    while (readdir(directory) != NULL) count++;
    closedir(directory);
    return count - 3; /* ".", ".." and the directory's own descriptor */
}

typedef struct {
    HANDLE port;
    int step;          /* written by the main thread: 1 the port is closed, 2 the handle is reused */
    BOOLEAN reused;    /* whether the new port got the old handle's value */
    NTSTATUS before, afterClose, afterReuse;
    pthread_mutex_t lock;
    pthread_cond_t changed;
} CACHED_PORT_USER;

static void await_step(CACHED_PORT_USER *state, int step) {
    pthread_mutex_lock(&state->lock);
    while (state->step < step) pthread_cond_wait(&state->changed, &state->lock);
    pthread_mutex_unlock(&state->lock);
}

static void set_step(CACHED_PORT_USER *state, int step) {
    pthread_mutex_lock(&state->lock);
    state->step = step;
    pthread_cond_broadcast(&state->changed);
    pthread_mutex_unlock(&state->lock);
}

static NTSTATUS poll_port(HANDLE port) {
    MESSAGE message;
    SIZE_T length = sizeof message;
    LARGE_INTEGER zero = capi_ms(0);
    return NtAlpcSendWaitReceivePort(port, 0, NULL, NULL, &message.Header, &length, NULL, &zero);
}

/* Uses the port (which this thread then finds again without the handle table), waits for the
 * main thread to close it, and uses the handle again, then again once it may name a new port. */
static void *cached_port_user(void *context) {
    CACHED_PORT_USER *state = context;
    state->before = poll_port(state->port);
    await_step(state, 1);
    state->afterClose = poll_port(state->port);
    await_step(state, 2);
    state->afterReuse = poll_port(state->port);
    return NULL;
}

static void case_cached_port_handles(void) {
    int baseline = open_descriptors();
    CACHED_PORT_USER state = {create_port("cache", 0, NULL), 0, FALSE, STATUS_PENDING, STATUS_PENDING, STATUS_PENDING,
                              PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER};
    pthread_t thread;
    CHECK(pthread_create(&thread, NULL, cached_port_user, &state) == 0, "pthread_create");
    /* The thread polls before the close: wait for that first. */
    for (int tries = 0; tries < 1000 && state.before == STATUS_PENDING; tries++) usleep(1000);
    CHECK_STATUS(state.before, STATUS_TIMEOUT);
    CHECK_STATUS(NtClose(state.port), STATUS_SUCCESS);
    set_step(&state, 1);
    /* A new port, whose handle may take the closed one's value. */
    for (int tries = 0; tries < 1000 && state.afterClose == STATUS_PENDING; tries++) usleep(1000);
    HANDLE next = create_port("cache2", 0, NULL);
    state.reused = next == state.port;
    set_step(&state, 2);
    CHECK(pthread_join(thread, NULL) == 0, "pthread_join");
    /* A closed handle is refused, even by a thread that used it before the close; a value a
     * new port took names the new port. */
    CHECK_STATUS(state.afterClose, STATUS_INVALID_HANDLE);
    CHECK_STATUS(state.afterReuse, state.reused ? STATUS_TIMEOUT : STATUS_INVALID_HANDLE);
    /* What the thread found the ports through is gone with it: closing the new port leaves
     * no descriptor of either open. */
    CHECK_STATUS(NtClose(next), STATUS_SUCCESS);
    CHECK(open_descriptors() == baseline, "%d descriptors open, %d before", open_descriptors(), baseline);
}

/* ---------------------------------------------------------------------------------------
 * Runner
 * ------------------------------------------------------------------------------------- */

typedef struct {
    const char *name;
    void (*run)(void);
} CASE;

static const CASE cases[] = {
    {"timeouts", case_timeouts},
    {"buffer-length", case_buffer_length},
    {"reply-ports", case_reply_ports},
    {"port-context", case_port_context},
    {"close-wakes-receiver", case_close_wakes},
    {"close-communication-port", case_close_communication},
    {"waitable-port", case_waitable},
    {"waitable-client-port", case_waitable_client},
    {"async-connect", case_async_connect},
    {"information-and-sender", case_information},
    {"impersonation", case_impersonation},
    {"cancel", case_cancel},
    {"sections-and-contexts", case_sections_and_contexts},
    {"basics", case_basics},
    {"bad-input", case_bad_input},
    {"descriptor-exhaustion", case_descriptor_exhaustion},
    {"cached-port-handles", case_cached_port_handles},
};

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    self = argv[0];
    if (argc == 4 && strcmp(argv[1], "client") == 0) return client(argv[2], argv[3]);
    int passed = 0, failed = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        BOOLEAN wanted = argc == 1;
        for (int a = 1; a < argc; a++) wanted |= strcmp(argv[a], cases[i].name) == 0;
        if (!wanted) continue;
        /* Each case in a process of its own, so that a failed check ends only that case. */
        fflush(stdout);
        pid_t pid = fork();
        CHECK(pid >= 0, "fork");
        if (pid == 0) {
            cases[i].run();
            exit(0); /* (not _exit: LeakSanitizer checks at exit) */
        }
        int status = capi_wait(pid, 60);
        printf("%s %s\n", status == 0 ? "PASS" : "FAIL", cases[i].name);
        if (status == 0) passed++; else failed++;
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
