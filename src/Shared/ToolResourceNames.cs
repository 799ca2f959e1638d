using System.Collections.Concurrent;

namespace AiRbac.Internal;

// The resource name of a tool (prefix + tool name), made once per tool name instead of concatenated per call. Shared by
// the adapters that authorize tool calls (linked as source). Bounded: at most about MaxEntries names of at most
// MaxNameLength characters are kept (a client can send any name); any other name is concatenated per call, as before.
internal sealed class ToolResourceNames(string prefix)
{
    private const int MaxEntries = Tuning.Adapters.ToolNameEntries;
    private const int MaxNameLength = Tuning.Adapters.ToolNameMaxLength;

    // The default prefix's names, shared by every instance made for it (short-lived ones included).
    private static readonly ToolResourceNames DefaultTools = new("tool:");

    private ConcurrentDictionary<string, string>? names;
    private int count;

    // The names of a prefix: one shared instance for the default tool:, else a new one.
    internal static ToolResourceNames For(string prefix)
        => string.Equals(prefix, DefaultTools.Prefix, StringComparison.Ordinal) ? DefaultTools : new(prefix);

    internal string Prefix => prefix;

    // prefix + name.
    internal string Of(string name)
    {
        var names = Volatile.Read(ref this.names);
        if (names is null)
        {
            // Made on first use, so an instance that is never asked costs no dictionary.
            var made = new ConcurrentDictionary<string, string>(StringComparer.Ordinal);
            names = Interlocked.CompareExchange(ref this.names, made, null) ?? made;
        }

        if (names.TryGetValue(name, out var resource))
        {
            return resource;
        }

        resource = string.Concat(prefix, name);
        // The count is read before adding, so concurrent callers can overshoot the bound by at most their number.
        if (name.Length <= MaxNameLength && Volatile.Read(ref count) < MaxEntries && names.TryAdd(name, resource))
        {
            Interlocked.Increment(ref count);
        }

        return resource;
    }
}
