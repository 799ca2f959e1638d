using System.Security.Claims;

namespace AiRbac.Internal;

// Shared by the adapters that see a ClaimsPrincipal (linked as source, not referenced, so the adapters stay
// independent of each other). A candidate for AiRbac.Core: ClaimsPrincipal is in the BCL.
internal static class ClaimsSubjectMapper
{
    // The subject a request carries when there is no usable identity: it is denied with missing_identity.
    internal static readonly Subject Anonymous = new(string.Empty, SubjectKind.User, []);

    /// <summary>
    /// Maps a principal to a subject: the id and the kind from the primary identity's name and kind claims (no kind
    /// claim: <paramref name="defaultKind"/>, which is <see langword="null"/> unless the operator opts in, so the
    /// policy's bindings decide, as in the core); roles from the role claims of every identity of the principal, as
    /// <see cref="ClaimsPrincipal.IsInRole"/> reads them (claims transformation commonly adds a second identity with
    /// application roles); none: the policy's bindings. When the primary identity has an
    /// <see cref="ClaimsIdentity.Actor"/> (delegation), the actor is the subject and acts on behalf of the identity;
    /// an actor's roles are its own claims only. Anything unusable (no identity, primary identity not authenticated,
    /// no name, an unknown kind) maps to <see cref="Anonymous"/>.
    /// </summary>
    internal static Subject Map(ClaimsPrincipal? principal, string? nameClaimType, string? roleClaimType, string kindClaimType, SubjectKind? defaultKind)
    {
        if (principal?.Identity is not ClaimsIdentity identity || !identity.IsAuthenticated)
        {
            return Anonymous;
        }

        return Map(identity, principal.Identities, nameClaimType, roleClaimType, kindClaimType, defaultKind, onBehalfOf: null, depth: 0);
    }

    private static Subject Map(
        ClaimsIdentity identity, IEnumerable<ClaimsIdentity>? roleSources, string? nameClaimType, string? roleClaimType, string kindClaimType, SubjectKind? defaultKind, Subject? onBehalfOf, int depth)
    {
        // One pass over the identity's claims for the id and the kind (the first claim of each type, as FindFirst reads
        // them, types compared ignoring case), indexed when the identity exposes a list: no iterator per request.
        var claims = ClaimsOf(identity);
        string nameType = nameClaimType ?? identity.NameClaimType;
        string? id = null, kindValue = null;
        bool kindSeen = false;
        for (int i = 0; i < claims.Count && (id is null || !kindSeen); i++)
        {
            var claim = claims[i];
            if (id is null && SameType(claim.Type, nameType))
            {
                id = claim.Value;
            }

            if (!kindSeen && SameType(claim.Type, kindClaimType))
            {
                kindValue = claim.Value;
                kindSeen = true;
            }
        }

        if (string.IsNullOrEmpty(id) || !TryKind(kindValue, defaultKind, out var kind))
        {
            return Anonymous;
        }

        // Role claims of every role source (the principal's identities; an actor's own claims only), each role once, in
        // order: counted first, so the buffer that gathers them is found once.
        int count = 0;
        if (roleSources is null)
        {
            count = CountRoles(claims, roleClaimType ?? identity.RoleClaimType);
        }
        else
        {
            var sources = AsList(roleSources);
            for (int i = 0; i < sources.Count; i++)
            {
                count += CountRoles(ClaimsOf(sources[i]), roleClaimType ?? sources[i].RoleClaimType);
            }
        }

        // No role claims: the policy's bindings section decides (roles: null).
        Subject subject;
        if (count == 0)
        {
            subject = new Subject(id, kind, null, onBehalfOf);
        }
        else
        {
            // The names are gathered into a per-thread buffer (each role once, in order), then handed to the subject,
            // which copies them into its own bindings: no bindings array of ours that the subject would copy again.
            var names = Scratch.Names(count);
            int n = 0;
            HashSet<string>? seen = count > SmallRoleCount ? new(StringComparer.Ordinal) : null;
            if (roleSources is null)
            {
                AddRoles(claims, roleClaimType ?? identity.RoleClaimType, names, ref n, seen);
            }
            else
            {
                var sources = AsList(roleSources);
                for (int i = 0; i < sources.Count; i++)
                {
                    AddRoles(ClaimsOf(sources[i]), roleClaimType ?? sources[i].RoleClaimType, names, ref n, seen);
                }
            }

            if (kind is { } known && onBehalfOf is null)
            {
                // Subject.WithRoles copies the names into unscoped, permanent bindings it owns (the same subject the
                // constructor builds from such bindings).
                subject = Subjects.Find(id, known, names, n) ?? Subjects.Add(id, known, names, n);
            }
            else
            {
                var roles = new RoleBinding[n];
                for (int i = 0; i < n; i++)
                {
                    roles[i] = new RoleBinding(names[i]);
                }

                subject = new Subject(id, kind, roles, onBehalfOf);
            }

            Array.Clear(names, 0, n);
            Scratch.Return(names);
        }

        // Delegation (for example an RFC 8693 "act" claim mapped to ClaimsIdentity.Actor): the actor asks on behalf of
        // this identity; an actor's own actor extends the chain. An actor's kind, like anyone's, comes from its kind
        // claim, else the opt-in default, else the policy. The depth bound only stops a cyclic Actor graph; real
        // chains are short.
        if (identity.Actor is { } actor)
        {
            return depth < 8 ? Map(actor, null, nameClaimType, roleClaimType, kindClaimType, defaultKind, subject, depth + 1) : Anonymous;
        }

        return subject;
    }

    // Up to this many roles, a repeat is found by scanning the bindings so far; past it, by a set (a token with thousands
    // of role claims costs linear time, not quadratic).
    private const int SmallRoleCount = Tuning.Adapters.SmallRoleCount;

    // ClaimsIdentity.FindFirst and FindAll compare claim types ignoring case.
    private static bool SameType(string type, string wanted) => string.Equals(type, wanted, StringComparison.OrdinalIgnoreCase);

    private static int CountRoles(List<Claim> claims, string roleType)
    {
        int count = 0;
        for (int i = 0; i < claims.Count; i++)
        {
            count += SameType(claims[i].Type, roleType) ? 1 : 0;
        }

        return count;
    }

    private static void AddRoles(List<Claim> claims, string roleType, string[] names, ref int n, HashSet<string>? seen)
    {
        for (int i = 0; i < claims.Count; i++)
        {
            var claim = claims[i];
            if (!SameType(claim.Type, roleType) || (seen is null ? Contains(names, n, claim.Value) : !seen.Add(claim.Value)))
            {
                continue;
            }

            names[n++] = claim.Value;
        }

        static bool Contains(string[] names, int n, string role)
        {
            for (int i = 0; i < n; i++)
            {
                if (string.Equals(names[i], role, StringComparison.Ordinal))
                {
                    return true;
                }
            }

            return false;
        }
    }

    // Subjects already mapped, by id, kind and role names: a principal seen before maps to the same Subject object, which
    // keeps its resolved role set for the policy (so the decision takes the reused-subject path) and costs no allocation.
    // A Subject is immutable, so sharing one between requests and threads changes no decision. Only subjects of a known
    // kind, with 1 to MaxRoles role names (unscoped, permanent, as claims map them) and no delegation are kept.
    // Bounded: an array of Slots entries, two-way (a subject's home slot and its neighbour), a new subject replacing what
    // held its home slot when both are taken; ids and names
    // longer than MaxLength characters are not kept. A hostile stream of distinct claims costs a hash, a comparison
    // and a slot write per request, and memory stays within Slots entries.
    private static class Subjects
    {
        private const int Slots = Tuning.Adapters.SubjectSlots;
        private const int MaxRoles = Tuning.Adapters.SubjectMaxRoles;
        private const int MaxLength = Tuning.Adapters.SubjectMaxNameLength;

        private static readonly Entry?[] Table = new Entry?[Slots];

        // The subject for these names, when one is kept.
        internal static Subject? Find(string id, SubjectKind kind, string[] names, int n)
        {
            if (n > MaxRoles)
            {
                return null;
            }

            int hash = Hash(id, kind, names, n), slot = hash & (Slots - 1);
            var entry = Volatile.Read(ref Table[slot]);
            if (entry is not null && entry.Matches(hash, id, kind, names, n))
            {
                return entry.Subject;
            }

            entry = Volatile.Read(ref Table[slot ^ 1]);
            return entry is not null && entry.Matches(hash, id, kind, names, n) ? entry.Subject : null;
        }

        // Builds the subject (Subject.WithRoles copies the names into unscoped, permanent bindings it owns, the subject
        // the constructor builds from such bindings) and keeps it when it qualifies.
        internal static Subject Add(string id, SubjectKind kind, string[] names, int n)
        {
            var exact = Scratch.Exact(names, n);
            var subject = Subject.WithRoles(id, kind, exact);
            Array.Clear(exact, 0, n);
            if (n <= MaxRoles && id.Length <= MaxLength && Short(names, n))
            {
                // Two ways: the home slot, else its neighbour when that one is free, else the home slot is replaced.
                int hash = Hash(id, kind, names, n), slot = hash & (Slots - 1);
                if (Volatile.Read(ref Table[slot]) is not null && Volatile.Read(ref Table[slot ^ 1]) is null)
                {
                    slot ^= 1;
                }

                Volatile.Write(ref Table[slot], new Entry(hash, id, kind, names.AsSpan(0, n).ToArray(), subject));
            }

            return subject;
        }

        private static bool Short(string[] names, int n)
        {
            for (int i = 0; i < n; i++)
            {
                if (names[i].Length > MaxLength)
                {
                    return false;
                }
            }

            return true;
        }

        // A cheap multiply-and-xor hash (a collision only costs a miss: an entry is compared in full before it is used).
        private static int Hash(string id, SubjectKind kind, string[] names, int n)
        {
            // The id in full (it tells most subjects apart), each role name by its length and three characters.
            uint hash = Mix(2166136261u ^ (uint)kind, id);
            for (int i = 0; i < n; i++)
            {
                string name = names[i];
                uint sample = name.Length == 0 ? 0u : ((uint)name[0] << 16) ^ ((uint)name[name.Length >> 1] << 8) ^ name[^1];
                hash = (hash ^ sample ^ ((uint)name.Length << 24)) * 16777619u;
            }

            return (int)(hash ^ (hash >> 15) ^ (hash >> 7));

            static uint Mix(uint hash, string text)
            {
                foreach (char c in text)
                {
                    hash = (hash ^ c) * 16777619u;
                }

                return (hash ^ (uint)text.Length) * 16777619u;
            }
        }

        private sealed class Entry(int hash, string id, SubjectKind kind, string[] names, Subject subject)
        {
            internal Subject Subject => subject;

            internal bool Matches(int hash2, string id2, SubjectKind kind2, string[] names2, int n)
            {
                if (hash != hash2 || kind != kind2 || names.Length != n || !string.Equals(id, id2, StringComparison.Ordinal))
                {
                    return false;
                }

                for (int i = 0; i < n; i++)
                {
                    if (!string.Equals(names[i], names2[i], StringComparison.Ordinal))
                    {
                        return false;
                    }
                }

                return true;
            }
        }
    }

    // Per-thread buffers for role names, so that mapping a principal allocates only the subject (its bindings included).
    // Cleared after each use; buffers longer than MaxKept are not kept.
    private static class Scratch
    {
        private const int MaxKept = Tuning.Adapters.ScratchMaxKept;
        private const int MaxExact = Tuning.Adapters.ScratchMaxExact;

        [ThreadStatic]
        private static string[]? names;

        [ThreadStatic]
        private static string[]?[]? exact;

        // A buffer of at least count slots, all null, taken from the thread until Return (so a nested use, say from a
        // ClaimsIdentity subclass that maps another principal while its claims are read, gets a buffer of its own).
        internal static string[] Names(int count)
        {
            var buffer = names;
            if (buffer is null || buffer.Length < count)
            {
                return new string[Math.Max(count, 8)];
            }

            names = null;
            return buffer;
        }

        // Gives a cleared buffer back to the thread.
        internal static void Return(string[] buffer)
        {
            if (buffer.Length <= MaxKept)
            {
                names = buffer;
            }
        }

        // An array of exactly n slots holding the first n names (the caller clears it after use).
        internal static string[] Exact(string[] from, int n)
        {
            string[] result;
            if (n > MaxExact)
            {
                result = new string[n];
            }
            else
            {
                var byLength = exact ??= new string[]?[MaxExact + 1];
                result = byLength[n] ??= new string[n];
            }

            Array.Copy(from, result, n);
            return result;
        }
    }

    // ClaimsIdentity.Claims and ClaimsPrincipal.Identities are lists unless a subclass says otherwise; only then is a copy made.
    // List<T> rather than IReadOnlyList<T>: a class test instead of a variant-interface cast, and no interface calls per claim.
    private static List<Claim> ClaimsOf(ClaimsIdentity identity) => AsList(identity.Claims);

    private static List<T> AsList<T>(IEnumerable<T> items) => items as List<T> ?? [.. items];

    private static bool TryKind(string? value, SubjectKind? defaultKind, out SubjectKind? kind)
    {
        if (string.IsNullOrEmpty(value))
        {
            // A default kind outside the enum (for example "3" bound from configuration) fails closed, like an unknown claim.
            kind = defaultKind;
            return defaultKind is not { } fallback || (uint)fallback <= (uint)SubjectKind.Agent;
        }

        if (SubjectKinds.TryParse(value, out var parsed))
        {
            kind = parsed;
            return true;
        }

        kind = defaultKind;
        return false; // an unknown kind fails closed
    }
}
