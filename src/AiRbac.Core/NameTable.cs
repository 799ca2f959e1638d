using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Security.Cryptography;

namespace AiRbac;

/// <summary>
/// A read-only string → id map for names looked up on the request path (actions, tags, role names, exact resources of
/// large rule lists). Open addressing over a power-of-two table of slots (where the key's characters are in one shared
/// array, its length, its id), one ordinal comparison per probe of a key of the same length.
/// Three hashes, the first whose fill stays short is kept: a cheap hash of the length and three characters (callgrind on
/// the reference scenario: about a third of the instructions of a FrozenDictionary lookup); a hash of every character, eight
/// bytes per step, with a per-process seed (names that share their length and ends, like <c>team-00001</c> ...
/// <c>team-10000</c>, cluster in the cheap hash; the randomized string hash costs several times this one on them); and the
/// process-randomized string hash (Marvin) as the last resort. The table is never written after it is built, so a lookup's
/// worst case is fixed then: a request string can only probe the run of occupied slots it lands in, and a hash is kept
/// only if no key was placed more than a few slots from its home and no run of occupied slots is long.
/// </summary>
internal sealed class NameTable
{
    // Longest displacement of a key, and longest run of occupied slots, accepted before trying the next hash.
    private const int MaxProbe = Tuning.Tables.NameTableMaxProbe;
    private const int MaxRun = Tuning.Tables.NameTableMaxRun;

    // Odd, so the multiplication is a bijection; the seed makes the word hash differ per process.
    private const ulong Multiplier = 0x9E3779B97F4A7C15UL;
    internal static readonly ulong Seed = RandomSeed();

    private readonly Entry[] entries;
    private readonly char[] chars;
    private readonly int mask;
    private readonly Hash hash;

    /// <summary>About how many bytes the table holds (its slots and its copy of the names).</summary>
    internal long Bytes => 64 + (entries.Length * 12L) + (chars.Length * 2L);

    public NameTable(IEnumerable<KeyValuePair<string, int>> names)
    {
        var pairs = names.ToArray();

        // The names are copied side by side into one array: a lookup reads its slot, then the key's characters there,
        // not a string object wherever the policy's loader left it (with 10,000 role names, two cache misses a lookup).
        var starts = new int[pairs.Length];
        int total = 0;
        for (int i = 0; i < pairs.Length; i++)
        {
            starts[i] = total;
            total += pairs[i].Key.Length;
        }

        chars = new char[total];
        for (int i = 0; i < pairs.Length; i++)
        {
            pairs[i].Key.CopyTo(chars.AsSpan(starts[i]));
        }

        // Three to six slots per key: 12-byte slots, so that the table of a large policy's role names stays small.
        int size = 4;
        while (size < pairs.Length * 3)
        {
            size <<= 1;
        }

        mask = size - 1;
        entries = new Entry[size];
        foreach (var candidate in (ReadOnlySpan<Hash>)[Hash.Cheap, Hash.Words])
        {
            if (Fill(pairs, starts, candidate) <= MaxProbe && LongestRun() <= MaxRun)
            {
                hash = candidate;
                return;
            }

            Array.Clear(entries);
        }

        hash = Hash.Full;
        Fill(pairs, starts, Hash.Full);
    }

    private enum Hash : byte
    {
        Cheap,
        Words,
        Full,
    }

    public int Count { get; private set; }

    private int Fill(KeyValuePair<string, int>[] pairs, int[] starts, Hash kind)
    {
        int longest = 0;
        Count = 0;
        for (int i = 0; i < pairs.Length; i++)
        {
            var (name, id) = pairs[i];
            int slot = HashOf(name, kind) & mask;
            int probe = 0;
            while (entries[slot].Occupied && !KeyEquals(in entries[slot], name))
            {
                slot = (slot + 1) & mask;
                probe++;
            }

            if (!entries[slot].Occupied)
            {
                entries[slot] = new Entry(starts[i], name.Length, id); // the first id given for a name wins
                Count++;
            }

            longest = Math.Max(longest, probe);

            // Names a hash clusters (the cheap one on "x:10000" ... "x:99999") would make the rest of this fill quadratic:
            // give up at once, and the next hash is tried.
            if (kind != Hash.Full && longest > MaxProbe)
            {
                return longest;
            }
        }

        return longest;
    }

    /// <summary>The longest run of occupied slots (wrapping around): the most probes a lookup of an unknown name can take.</summary>
    private int LongestRun()
    {
        int longest = 0, run = 0;
        for (int i = 0; i < entries.Length * 2 && longest < entries.Length; i++)
        {
            run = entries[i & mask].Occupied ? run + 1 : 0;
            longest = Math.Max(longest, run);
        }

        return longest;
    }

    /// <summary>The id of <paramref name="name"/>, or -1.</summary>
    public int Find(string name)
    {
        if (name.Length == 0 || Count == 0)
        {
            return -1;
        }

        var table = entries;
        int slot = HashOf(name, hash) & mask;
        while (true)
        {
            ref readonly var entry = ref table[slot];
            if (!entry.Occupied)
            {
                return -1;
            }

            if (KeyEquals(in entry, name))
            {
                return entry.Id;
            }

            slot = (slot + 1) & mask;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool KeyEquals(in Entry entry, string name)
        => entry.Length == name.Length && TextEquals(chars.AsSpan(entry.Start, name.Length), name);

    /// <summary>
    /// Whether two texts of the same length are equal: up to 16 characters (names mostly are) in two overlapping loads
    /// from each end, inline; longer ones by the vectorized library call.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static bool TextEquals(ReadOnlySpan<char> a, ReadOnlySpan<char> b)
    {
        int length = a.Length;
        ref byte x = ref MemoryMarshal.GetReference(MemoryMarshal.AsBytes(a));
        ref byte y = ref MemoryMarshal.GetReference(MemoryMarshal.AsBytes(b));
        if (length >= 8 && length <= 16)
        {
            nuint last = (nuint)((length - 8) * sizeof(char));
            return Vector128.LoadUnsafe(ref x) == Vector128.LoadUnsafe(ref y) && Vector128.LoadUnsafe(ref x, last) == Vector128.LoadUnsafe(ref y, last);
        }

        if (length >= 4 && length < 8)
        {
            nint last = (length - 4) * sizeof(char);
            return Unsafe.ReadUnaligned<ulong>(ref x) == Unsafe.ReadUnaligned<ulong>(ref y)
                && Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref x, last)) == Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref y, last));
        }

        return a.SequenceEqual(b);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int HashOf(string s, Hash kind)
        => kind == Hash.Cheap ? CheapHash(s) : kind == Hash.Words ? WordHash(s) : FullHash(s);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int CheapHash(string s)
    {
        int n = s.Length;
        return n == 0 ? 0 : (int)((uint)(n * -1640531535) ^ ((uint)s[0] * 31u) ^ ((uint)s[n - 1] * 131u) ^ ((uint)s[n >> 1] * 7919u));
    }

    /// <summary>Every character, four at a time (multiply and fold), from a per-process seed.</summary>
    private static int WordHash(string s)
    {
        var chars = s.AsSpan();
        ulong h = Seed ^ ((ulong)chars.Length * Multiplier);
        foreach (ulong word in MemoryMarshal.Cast<char, ulong>(chars))
        {
            h = (h ^ word) * Multiplier;
            h ^= h >> 29;
        }

        for (int i = chars.Length & ~3; i < chars.Length; i++)
        {
            h = (h ^ chars[i]) * Multiplier;
        }

        h ^= h >> 32;
        return (int)h;
    }

    // Randomized per process (Marvin).
    private static int FullHash(string s) => StringComparer.Ordinal.GetHashCode(s);

    private static ulong RandomSeed()
    {
        Span<byte> bytes = stackalloc byte[8];
        RandomNumberGenerator.Fill(bytes);
        return MemoryMarshal.Read<ulong>(bytes);
    }

    /// <summary>A slot: where its key's characters start in <see cref="chars"/>, their count plus one (0: empty slot), and its id.</summary>
    private readonly struct Entry(int start, int length, int id)
    {
        public readonly int Start = start;
        private readonly int lengthPlusOne = length + 1;
        public readonly int Id = id;

        public int Length => lengthPlusOne - 1;

        public bool Occupied => lengthPlusOne != 0;
    }
}
