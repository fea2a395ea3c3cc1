import Testing
import PathTSDB
@testable import Probe

/// Reverse DNS messages: the question for an address, and every answer read or refused by name.
@Suite struct PTRMessageTests {
    static func name(_ text: String) -> [UInt8] { text.split(separator: ".").flatMap { [UInt8($0.utf8.count)] + Array($0.utf8) } + [0] }

    /// An answer as dnsmasq sends it: the question, then the PTR with a pointer to it.
    static func answer(id: UInt16, rcode: UInt8 = 0, target: String = "hop4.lab.example", ttl: UInt32 = 3600) -> [UInt8] {
        let question = name("4.0.77.10.in-addr.arpa") + [0, 12, 0, 1]
        let rdata = name(target)
        let record: [UInt8] = [0xC0, 0x0C, 0, 12, 0, 1, UInt8(ttl >> 24), UInt8(ttl >> 16 & 0xFF), UInt8(ttl >> 8 & 0xFF), UInt8(ttl & 0xFF),
                               UInt8(rdata.count >> 8), UInt8(rdata.count & 0xFF)] + rdata
        return [UInt8(id >> 8), UInt8(id & 0xFF), 0x85, 0x80 | rcode, 0, 1, 0, rcode == 0 ? 1 : 0, 0, 0, 0, 0] + question + (rcode == 0 ? record : [])
    }

    @Test func theQuestionNamesTheReverseZone() throws {
        #expect(PTRMessage.reverseName(of: IPAddress(v4: 0x0A4D_0004)) == "4.0.77.10.in-addr.arpa")
        #expect(PTRMessage.reverseName(of: try #require(IPAddress("2001:db8::1"))) == "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa")
        #expect(PTRMessage.query(id: 0x1234, address: IPAddress(v4: 0x0A4D_0004))
                == [0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0] + Self.name("4.0.77.10.in-addr.arpa") + [0, 12, 0, 1])
    }

    @Test func anAnswerGivesTheNameAndItsTTL() throws {
        #expect(try PTRMessage.answer(Self.answer(id: 7), id: 7) == .name("hop4.lab.example", ttl: 3600))
        #expect(try PTRMessage.answer(Self.answer(id: 7, rcode: 3), id: 7) == .none)
        // Bytes a name may hold but a page must not take as markup are kept as they are (the
        // page escapes them); bytes outside printable ASCII are written \DDD.
        #expect(try PTRMessage.answer(Self.answer(id: 7, target: "x<b>.example"), id: 7) == .name("x<b>.example", ttl: 3600))
        var odd = Self.answer(id: 7)
        odd[odd.count - 14] = 0x0A   // a newline for the "4" of "hop4"
        #expect(try PTRMessage.answer(odd, id: 7) == .name("hop\\010.lab.example", ttl: 3600))
    }

    @Test func aBadAnswerIsRefusedSayingWhere() {
        func refusal(_ bytes: [UInt8], id: UInt16 = 7) -> ProbeError? {
            do { _ = try PTRMessage.answer(bytes, id: id); return nil } catch { return error }
        }
        #expect(refusal([0, 7, 0x85]).map { $0.message.contains("at least 12 bytes") } == true)
        #expect(refusal(Self.answer(id: 8))?.message.contains("id 8 is not the query's 7") == true)
        #expect(refusal(Array(Self.answer(id: 7).dropLast(5)))?.source == "DNS answer")
        #expect(refusal(Self.answer(id: 7, rcode: 2))?.message.contains("rcode 2") == true)
        // A pointer to itself: refused, not followed for ever.
        var loop = Array(Self.answer(id: 7).prefix(40))
        loop += [0xC0, 40, 0, 12, 0, 1, 0, 0, 0, 1, 0, 2, 0xC0, 40]
        #expect(refusal(loop)?.message.contains("loop") == true)
    }

    @Test func theServerIsAnAddressAndAPort() {
        #expect(ReverseNameCache.Server("127.0.0.1:5353") == ReverseNameCache.Server(address: IPAddress(v4: 0x7F00_0001), port: 5353))
        #expect(ReverseNameCache.Server("10.0.0.1")?.port == 53)
        #expect(ReverseNameCache.Server("[::1]:5353")?.port == 5353 && ReverseNameCache.Server("[::1]:5353")?.address.isIPv4 == false)
        #expect(ReverseNameCache.Server("resolver.example") == nil && ReverseNameCache.Server("10.0.0.1:0") == nil)
        #expect(ReverseNameCache.Server.system(resolvConf: "# x\nsearch lab\nnameserver 192.0.2.53\nnameserver 192.0.2.54\n")?.address == IPAddress(v4: 0xC000_0235))
    }
}
