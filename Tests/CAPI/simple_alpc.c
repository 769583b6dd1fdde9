/*
 * simple_alpc.c - the seed's simple_alpc sample, written in C against the NT API as a Windows
 * program is: `simple_alpc server NAME` serves one client (connection, one request, then its
 * disconnect), `simple_alpc client NAME` connects and sends "Hello world !". Either side talks
 * to the other, or to the Swift tools (`alpc serve`, `alpc call`).
 *
 * Against `alpc serve`: `simple_alpc sizes NAME FROM TO` sends one request of each data length
 * from FROM to TO bytes and expects every one answered "REQUEST '...' DONE"; `simple_alpc forge
 * NAME` sends data with a newline and an escape sequence, for the log check.
 */
#include "capi_test.h"

/* A message buffer as Windows programs declare one: the header, then room for the data. */
typedef struct {
    PORT_MESSAGE Header;
    UCHAR Data[0x1000 - sizeof(PORT_MESSAGE)];
} SAMPLE_MESSAGE;

static int server(const char *name) {
    wchar_t portName[128];
    capi_widen(name, portName, 128);
    UNICODE_STRING usPortName;
    RtlInitUnicodeString(&usPortName, portName);
    OBJECT_ATTRIBUTES objectAttributes;
    InitializeObjectAttributes(&objectAttributes, &usPortName, 0, NULL, NULL);
    ALPC_PORT_ATTRIBUTES portAttributes;
    RtlZeroMemory(&portAttributes, sizeof portAttributes);
    portAttributes.MaxMessageLength = sizeof(SAMPLE_MESSAGE);

    HANDLE hConnectionPort = NULL;
    CHECK_STATUS(NtAlpcCreatePort(&hConnectionPort, &objectAttributes, &portAttributes), STATUS_SUCCESS);
    printf("[SERV] PORT <%s> CREATED\n", name);
    fflush(stdout);

    SAMPLE_MESSAGE message;
    SIZE_T length = sizeof message;
    LARGE_INTEGER timeout = capi_ms(10000);
    RtlZeroMemory(&message, sizeof message);
    CHECK_STATUS(NtAlpcSendWaitReceivePort(hConnectionPort, 0, NULL, NULL, &message.Header, &length, NULL, &timeout),
                 STATUS_SUCCESS);
    printf("Message type = 0x%x\n", (unsigned)(USHORT)message.Header.u2.s2.Type);
    CHECK(LOBYTE(message.Header.u2.s2.Type) == LPC_CONNECTION_REQUEST, "expected a connection request");
    printf("Connection request\n");
    HANDLE hCommunicationPort = NULL;
    CHECK_STATUS(NtAlpcAcceptConnectPort(&hCommunicationPort, hConnectionPort, 0, NULL, NULL, NULL, &message.Header,
                                         NULL, TRUE),
                 STATUS_SUCCESS);

    length = sizeof message;
    CHECK_STATUS(NtAlpcSendWaitReceivePort(hConnectionPort, 0, NULL, NULL, &message.Header, &length, NULL, &timeout),
                 STATUS_SUCCESS);
    CHECK(LOBYTE(message.Header.u2.s2.Type) == LPC_REQUEST, "expected a request, got 0x%x",
          (unsigned)message.Header.u2.s2.Type);
    char received[0x1000];
    int dataLength = message.Header.u1.s1.DataLength;
    memcpy(received, message.Data, (size_t)dataLength);
    received[dataLength] = 0;
    printf("Received data: <%s>\n", received);
    printf("Message type = 0x%x\n", (unsigned)(USHORT)message.Header.u2.s2.Type);

    /* The reply: the same header (MessageId, ClientId), new data. */
    char reply[0x1000];
    int replyLength = snprintf(reply, sizeof reply, "REQUEST '%s' DONE", received);
    capi_set_data(&message.Header, reply, (size_t)replyLength);
    CHECK_STATUS(NtAlpcSendWaitReceivePort(hConnectionPort, 0, &message.Header, NULL, NULL, NULL, NULL, NULL),
                 STATUS_SUCCESS);

    /* The client leaves: LPC_PORT_CLOSED. */
    length = sizeof message;
    CHECK_STATUS(NtAlpcSendWaitReceivePort(hConnectionPort, 0, NULL, NULL, &message.Header, &length, NULL, &timeout),
                 STATUS_SUCCESS);
    CHECK(LOBYTE(message.Header.u2.s2.Type) == LPC_PORT_CLOSED || LOBYTE(message.Header.u2.s2.Type) == LPC_CLIENT_DIED,
          "expected the client to leave, got 0x%x", (unsigned)message.Header.u2.s2.Type);
    CHECK_STATUS(NtClose(hCommunicationPort), STATUS_SUCCESS);
    CHECK_STATUS(NtClose(hConnectionPort), STATUS_SUCCESS);
    printf("BYE\n");
    return 0;
}

static int client(const char *name) {
    wchar_t portName[128];
    capi_widen(name, portName, 128);
    UNICODE_STRING usPortName;
    RtlInitUnicodeString(&usPortName, portName);
    printf("Client pid = %d\n", (int)GetCurrentProcessId());

    HANDLE hPort = NULL;
    LARGE_INTEGER timeout = capi_ms(10000);
    CHECK_STATUS(NtAlpcConnectPort(&hPort, &usPortName, NULL, NULL, ALPC_MSGFLG_SYNC_REQUEST, NULL, NULL, NULL, NULL,
                                   NULL, &timeout),
                 STATUS_SUCCESS);
    printf("[CLIENT] Connected\n");

    SAMPLE_MESSAGE message;
    RtlZeroMemory(&message, sizeof message);
    const char *text = "Hello world !";
    capi_set_data(&message.Header, text, strlen(text));
    SIZE_T length = sizeof message;
    CHECK_STATUS(NtAlpcSendWaitReceivePort(hPort, ALPC_MSGFLG_SYNC_REQUEST, &message.Header, NULL, &message.Header,
                                           &length, NULL, &timeout),
                 STATUS_SUCCESS);
    CHECK(LOBYTE(message.Header.u2.s2.Type) == LPC_REPLY, "expected a reply, got 0x%x",
          (unsigned)message.Header.u2.s2.Type);
    char reply[0x1000];
    memcpy(reply, message.Data, (size_t)message.Header.u1.s1.DataLength);
    reply[message.Header.u1.s1.DataLength] = 0;
    printf("[CLIENT] Response: <%s>\n", reply);
    CHECK(strcmp(reply, "REQUEST 'Hello world !' DONE") == 0, "unexpected reply <%s>", reply);
    CHECK_STATUS(NtClose(hPort), STATUS_SUCCESS);
    return 0;
}

static HANDLE connect_to(const char *name) {
    static wchar_t portName[128];
    capi_widen(name, portName, 128);
    UNICODE_STRING usPortName;
    RtlInitUnicodeString(&usPortName, portName);
    HANDLE hPort = NULL;
    LARGE_INTEGER timeout = capi_ms(10000);
    CHECK_STATUS(NtAlpcConnectPort(&hPort, &usPortName, NULL, NULL, ALPC_MSGFLG_SYNC_REQUEST, NULL, NULL, NULL, NULL,
                                   NULL, &timeout),
                 STATUS_SUCCESS);
    return hPort;
}

/* Sends `length` bytes of data and returns the reply's data length; checks its frame. */
static int request_of(HANDLE hPort, PORT_MESSAGE *message, size_t capacity, size_t length) {
    memset(message, 0, sizeof(PORT_MESSAGE));
    memset(message + 1, 'a' + (int)(length % 26), length);
    message->u1.s1.DataLength = (CSHORT)length;
    message->u1.s1.TotalLength = (CSHORT)(sizeof(PORT_MESSAGE) + length);
    SIZE_T bufferLength = capacity;
    LARGE_INTEGER timeout = capi_ms(10000);
    NTSTATUS status = NtAlpcSendWaitReceivePort(hPort, ALPC_MSGFLG_SYNC_REQUEST, message, NULL, message,
                                                &bufferLength, NULL, &timeout);
    CHECK(status == STATUS_SUCCESS, "a request of %zu bytes: %s", length, AlpcStatusName(status));
    int replyLength = (USHORT)message->u1.s1.DataLength;
    const char *data = (const char *)(message + 1);
    CHECK(replyLength >= 18 && memcmp(data, "REQUEST '", 9) == 0 && memcmp(data + replyLength - 6, "' DONE", 6) == 0,
          "the reply to %zu bytes: %d bytes <%.20s...>", length, replyLength, data);
    return replyLength;
}

static int sizes(const char *name, size_t from, size_t to) {
    HANDLE hPort = connect_to(name);
    size_t capacity = 0x10000;
    PORT_MESSAGE *message = malloc(capacity);
    CHECK(message != NULL, "malloc");
    for (size_t length = from; length <= to; length++) request_of(hPort, message, capacity, length);
    printf("[CLIENT] answered every request of %zu to %zu bytes\n", from, to);
    free(message);
    CHECK_STATUS(NtClose(hPort), STATUS_SUCCESS);
    return 0;
}

static int forge(const char *name) {
    HANDLE hPort = connect_to(name);
    SAMPLE_MESSAGE message;
    const char *text = "evil\n[SERV] forged line\x1b[2J";
    RtlZeroMemory(&message, sizeof message);
    capi_set_data(&message.Header, text, strlen(text));
    SIZE_T length = sizeof message;
    LARGE_INTEGER timeout = capi_ms(10000);
    CHECK_STATUS(NtAlpcSendWaitReceivePort(hPort, ALPC_MSGFLG_SYNC_REQUEST, &message.Header, NULL, &message.Header,
                                           &length, NULL, &timeout),
                 STATUS_SUCCESS);
    CHECK_STATUS(NtClose(hPort), STATUS_SUCCESS);
    return 0;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 3 && strcmp(argv[1], "server") == 0) return server(argv[2]);
    if (argc == 3 && strcmp(argv[1], "client") == 0) return client(argv[2]);
    if (argc == 5 && strcmp(argv[1], "sizes") == 0) return sizes(argv[2], strtoul(argv[3], NULL, 0), strtoul(argv[4], NULL, 0));
    if (argc == 3 && strcmp(argv[1], "forge") == 0) return forge(argv[2]);
    fprintf(stderr, "usage: %s server|client NAME | sizes NAME FROM TO | forge NAME\n", argv[0]);
    return 2;
}
