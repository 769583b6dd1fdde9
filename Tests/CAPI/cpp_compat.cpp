/*
 * cpp_compat.cpp - a C++ program written as for Windows, through the stand-in headers
 * (`pkg-config --cflags --libs alpc-windows`): <windows.h>, <winternl.h>, <ntstatus.h>,
 * <tchar.h> and phnt's headers, _tmain, Win32 types and calls, both spellings of names, and
 * ULONG lengths where SIZE_T ones are declared. `cpp_compat` serves and runs itself as the
 * client (`cpp_compat client NAME`).
 */
#define WIN32_NO_STATUS
#include <windows.h>
#undef WIN32_NO_STATUS
#include <Windows.h>
#include <ntstatus.h>
#include <phnt_windows.h>
#include <phnt.h>
#include <tchar.h>
#include <winternl.h>

#include <string>

#include "capi_test.h"

#define MSG_LEN 0x500

struct ALPC_MESSAGE {
    PORT_MESSAGE64 Header;
    BYTE Data[MSG_LEN];
};

/* Replaces the data, keeping the header's ids (a reply, a connection answer). */
static void set_text(ALPC_MESSAGE &message, const std::string &text) {
    memcpy(message.Data, text.data(), text.size());
    message.Header.DataLength = (CSHORT)text.size(); /* the flat names */
    message.Header.TotalLength = (CSHORT)(sizeof(PORT_MESSAGE) + text.size());
}

/* A new message holding `text`: a zeroed header. */
static void fresh(ALPC_MESSAGE &message, const std::string &text) {
    RtlZeroMemory(&message.Header, sizeof message.Header);
    set_text(message, text);
}

static std::string text_of(const ALPC_MESSAGE &message) {
    return std::string((const char *)message.Data, (size_t)message.Header.u1.s1.DataLength);
}

static int run_client(const char *name) {
    wchar_t wide[128];
    size_t i = 0;
    for (; name[i]; i++) wide[i] = (wchar_t)name[i];
    wide[i] = 0;
    UNICODE_STRING portName;
    RtlInitUnicodeString(&portName, wide);
    ALPC_PORT_ATTRIBUTES attributes;
    ZeroMemory(&attributes, sizeof attributes);
    attributes.Flags = ALPC_PORTFLG_ALLOWIMPERSONATION;
    attributes.MaxMessageLength = sizeof(ALPC_MESSAGE);
    attributes.SecurityQos.Length = sizeof(SECURITY_QUALITY_OF_SERVICE);
    attributes.SecurityQos.ImpersonationLevel = SecurityImpersonation;

    ALPC_MESSAGE message;
    fresh(message, "connect from C++");
    ULONG connectLength = sizeof message; /* a ULONG length */
    HANDLE port = NULL;
    NTSTATUS status = NtAlpcConnectPort(&port, &portName, NULL, &attributes, ALPC_SYNC_CONNECTION, NULL,
                                        (PPORT_MESSAGE)&message, &connectLength, NULL, NULL, NULL);
    if (!NT_SUCCESS(status)) {
        _tprintf(_T("connect failed: 0x%08X\n"), (unsigned)status);
        return 1;
    }
    CHECK(text_of(message) == "accepted", "connection reply <%s>", text_of(message).c_str());

    for (int round = 0; round < 3; round++) {
        fresh(message, "request " + std::to_string(round));
        ULONG length = sizeof message;
        status = NtAlpcSendWaitReceivePort(port, ALPC_MSGFLG_SYNC_REQUEST, (PPORT_MESSAGE)&message, NULL,
                                           (PPORT_MESSAGE)&message, &length, NULL, NULL);
        CHECK(status == STATUS_SUCCESS, "request: 0x%08X", (unsigned)status);
        CHECK(message.Header.Type == LPC_REPLY, "type %d", message.Header.Type);
        CHECK(text_of(message) == "done " + std::to_string(round), "reply <%s>", text_of(message).c_str());
    }
    /* A datagram, with a NULL and a nullptr length: both pick the SIZE_T declaration. */
    fresh(message, "bye");
    status = NtAlpcSendWaitReceivePort(port, ALPC_MSGFLG_RELEASE_MESSAGE, (PPORT_MESSAGE)&message, NULL, NULL, NULL,
                                       NULL, NULL);
    CHECK(status == STATUS_SUCCESS, "datagram: 0x%08X", (unsigned)status);
    status = NtAlpcSendWaitReceivePort(port, ALPC_MSGFLG_RELEASE_MESSAGE, (PPORT_MESSAGE)&message, nullptr, nullptr,
                                       nullptr, nullptr, nullptr);
    CHECK(status == STATUS_SUCCESS, "datagram: 0x%08X", (unsigned)status);
    CHECK(CloseHandle(port), "CloseHandle");
    CHECK(!CloseHandle(port) && GetLastError() == ERROR_INVALID_HANDLE, "a closed handle: %u",
          (unsigned)GetLastError());
    return 0;
}

int _tmain(int argc, _TCHAR *argv[]) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 3 && _tcscmp(argv[1], _T("client")) == 0) return run_client(argv[2]);

    DWORD threadId = GetCurrentThreadId();
    unsigned __int64 wide = 1ULL << 40;
    CHECK(threadId != 0 && wide > 0xFFFFFFFFULL, "basics");
    HANDLE heap = GetProcessHeap();
    ALPC_MESSAGE *message = (ALPC_MESSAGE *)HeapAlloc(heap, HEAP_ZERO_MEMORY, sizeof(ALPC_MESSAGE));
    CHECK(message != NULL, "HeapAlloc");

    wchar_t name[128];
    swprintf(name, 128, L"\\RPC Control\\capi-cpp-%ld", (long)getpid());
    UNICODE_STRING portName;
    RtlInitUnicodeString(&portName, name);
    OBJECT_ATTRIBUTES objectAttributes;
    InitializeObjectAttributes(&objectAttributes, &portName, 0, NULL, NULL);
    ALPC_PORT_ATTRIBUTES attributes;
    ZeroMemory(&attributes, sizeof attributes);
    attributes.MaxMessageLength = sizeof(ALPC_MESSAGE);
    HANDLE port = NULL;
    NTSTATUS status = NtAlpcCreatePort(&port, &objectAttributes, &attributes);
    CHECK(NT_SUCCESS(status), "NtAlpcCreatePort: 0x%08X", (unsigned)status);

    char narrow[128];
    capi_narrow(narrow, sizeof narrow, name);
    pid_t client = capi_spawn(argv[0], "client", narrow, (char *)NULL);

    SIZE_T attributeSize = 0;
    status = AlpcInitializeMessageAttribute(ALPC_MESSAGE_ATTRIBUTE_ALL, NULL, 0, &attributeSize);
    CHECK(status == STATUS_BUFFER_TOO_SMALL, "size query");
    ULONG attributeSize32 = 0; /* the ULONG overload */
    status = AlpcInitializeMessageAttribute(ALPC_MESSAGE_ATTRIBUTE_ALL, NULL, 0, &attributeSize32);
    CHECK(attributeSize32 == attributeSize, "sizes %u and %zu", (unsigned)attributeSize32, (size_t)attributeSize);
    PALPC_MESSAGE_ATTRIBUTES receiveAttributes = (PALPC_MESSAGE_ATTRIBUTES)HeapAlloc(heap, 0, attributeSize);
    status = AlpcInitializeMessageAttribute(ALPC_MESSAGE_ATTRIBUTE_ALL, receiveAttributes, attributeSize, &attributeSize);
    CHECK(status == STATUS_SUCCESS, "AlpcInitializeMessageAttribute");

    HANDLE communication = NULL;
    int datagrams = 0;
    LARGE_INTEGER timeout;
    timeout.QuadPart = -10LL * 1000 * 1000 * 10; /* 10 s */
    while (datagrams < 2) {
        ULONG length = sizeof(ALPC_MESSAGE);
        status = NtAlpcSendWaitReceivePort(port, 0, NULL, NULL, (PPORT_MESSAGE)message, &length, receiveAttributes,
                                           &timeout);
        CHECK(status == STATUS_SUCCESS, "receive: 0x%08X", (unsigned)status);
        switch (LOBYTE(message->Header.Type)) {
        case LPC_CONNECTION_REQUEST:
            CHECK(text_of(*message) == "connect from C++", "connect data");
            set_text(*message, "accepted");
            status = NtAlpcAcceptConnectPort(&communication, port, 0, NULL, NULL, NULL, (PPORT_MESSAGE)message, NULL,
                                             TRUE);
            CHECK(status == STATUS_SUCCESS, "accept: 0x%08X", (unsigned)status);
            break;
        case LPC_REQUEST: {
            std::string text = text_of(*message);
            set_text(*message, "done " + text.substr(text.find(' ') + 1));
            status = NtAlpcSendWaitReceivePort(communication, 0, (PPORT_MESSAGE)message, NULL, NULL, NULL, NULL, NULL);
            CHECK(status == STATUS_SUCCESS, "reply: 0x%08X", (unsigned)status);
            break;
        }
        case LPC_DATAGRAM:
            CHECK(text_of(*message) == "bye", "datagram <%s>", text_of(*message).c_str());
            datagrams++;
            break;
        default:
            CHECK(false, "message type %d", message->Header.Type);
        }
    }
    CHECK(capi_wait(client, 20) == 0, "the client failed");
    CHECK(CloseHandle(communication) && CloseHandle(port), "CloseHandle");
    CHECK(HeapFree(heap, 0, receiveAttributes) && HeapFree(heap, 0, message), "HeapFree");
    _tprintf(_T("C++ through the stand-in headers: connect, 3 requests, 2 datagrams\n"));
    return 0;
}
