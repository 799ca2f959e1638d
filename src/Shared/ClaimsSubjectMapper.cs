using System.Security.Claims;
using System.Text.Json;

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

        var subject = Map(identity, principal.Identities, nameClaimType, roleClaimType, kindClaimType, defaultKind, onBehalfOf: null, depth: 0);

        // Delegation as identity providers issue it, on the primary identity only (an identity added later cannot make
        // anyone an actor). A ClaimsIdentity.Actor the authentication handler set was followed above and wins.
        return identity.Actor is null && !ReferenceEquals(subject, Anonymous)
            ? Delegation.Apply(identity, subject, roleClaimType, kindClaimType, defaultKind)
            : subject;
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
            return depth < MaxActors ? Map(actor, null, nameClaimType, roleClaimType, kindClaimType, defaultKind, subject, depth + 1) : Anonymous;
        }

        return subject;
    }

    private const int MaxActors = Tuning.Adapters.MaxActors;

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

    /// <summary>
    /// Delegation from token claims (docs/integrations.md, "Claims mapping (ASP.NET Core and MCP)"): the RFC 8693
    /// <c>act</c> claim, and Microsoft Entra agent identities' actor facet. The current actor becomes the subject and acts
    /// on behalf of the prior actors, the last of them on behalf of the token's subject: an agent never exceeds the user
    /// (nor an agent the agent that delegated to it). Anything malformed maps to <see cref="Anonymous"/>.
    /// </summary>
    private static class Delegation
    {
        private const string ActClaim = "act";
        private const string EntraActorFacet = "xms_act_fct";
        private const string EntraIdentityType = "idtyp";
        private const int MaxLength = Tuning.Adapters.MaxActClaimLength;

        internal static Subject Apply(ClaimsIdentity identity, Subject subject, string? roleClaimType, string kindClaimType, SubjectKind? defaultKind)
        {
            Claim? act = null, facet = null;
            string? identityType = null, azp = null, appId = null;
            bool conflicting = false;
            var claims = ClaimsOf(identity);
            for (int i = 0; i < claims.Count; i++)
            {
                var claim = claims[i];
                if (SameType(claim.Type, ActClaim))
                {
                    if (act is not null)
                    {
                        return Anonymous; // two act claims: which one acts cannot be told
                    }

                    act = claim;
                }
                else if (SameType(claim.Type, EntraActorFacet))
                {
                    facet ??= claim;
                }
                else if (SameType(claim.Type, EntraIdentityType))
                {
                    conflicting |= !Once(ref identityType, claim.Value, StringComparison.OrdinalIgnoreCase);
                }
                else if (SameType(claim.Type, "azp"))
                {
                    conflicting |= !Once(ref azp, claim.Value, StringComparison.Ordinal);
                }
                else if (SameType(claim.Type, "appid"))
                {
                    conflicting |= !Once(ref appId, claim.Value, StringComparison.Ordinal);
                }
            }

            if (act is not null)
            {
                return FromAct(act.Value, subject, roleClaimType ?? "roles", kindClaimType, defaultKind);
            }

            // Entra: a token a client got for a user (idtyp "user", or none in a v1 delegated token) that carries the
            // actor facet was got by an agent identity acting for that user: the client (azp in v2, appid in v1) is the
            // actor. A token an agent got for itself (idtyp "app") is the agent's own: no delegation.
            if (facet is null)
            {
                return subject;
            }

            // Two values of a claim that says whether anyone acts, or which app does: readers disagree on which counts.
            if (conflicting)
            {
                return Anonymous;
            }

            if (string.Equals(identityType, "app", StringComparison.OrdinalIgnoreCase))
            {
                return subject;
            }

            string? client = azp ?? appId;
            if (string.IsNullOrEmpty(client) || !TryKind(null, defaultKind, out var clientKind))
            {
                return Anonymous;
            }

            return new Subject(client, clientKind, null, subject);
        }

        // {"sub": current actor, ..., "act": {"sub": prior actor, "act": {...}}}: outermost first.
        private static Subject FromAct(string value, Subject principal, string roleKey, string kindKey, SubjectKind? defaultKind)
        {
            if (value.Length == 0 || value.Length > MaxLength)
            {
                return Anonymous;
            }

            try
            {
                // Each actor is one object level, its roles one array level more.
                using var document = JsonDocument.Parse(value, new JsonDocumentOptions { MaxDepth = MaxActors + 2 });
                List<(string Id, SubjectKind? Kind, RoleBinding[]? Roles)> actors = [];
                var element = document.RootElement;
                while (true)
                {
                    if (element.ValueKind != JsonValueKind.Object || actors.Count == MaxActors
                        || ReadActor(element, roleKey, kindKey, defaultKind) is not { } actor)
                    {
                        return Anonymous;
                    }

                    actors.Add(actor);
                    if (!TryGetUnique(element, ActClaim, out var inner))
                    {
                        break;
                    }

                    element = inner;
                }

                // The least recent actor acts for the token's subject, each later one for the one before it.
                var link = principal;
                for (int i = actors.Count - 1; i >= 0; i--)
                {
                    link = new Subject(actors[i].Id, actors[i].Kind, actors[i].Roles, link);
                }

                return link;
            }
            catch (Exception e) when (e is JsonException or InvalidOperationException or ArgumentException)
            {
                // Malformed JSON, a repeated property, or text that is not valid UTF-16 (JsonDocument.Parse refuses a raw
                // lone surrogate with ArgumentException; GetString an escaped one with InvalidOperationException).
                return Anonymous;
            }
        }

        // Keeps the first value of a claim; false when a later one differs from it.
        private static bool Once(ref string? slot, string value, StringComparison comparison)
        {
            if (slot is null)
            {
                slot = value;
                return true;
            }

            return string.Equals(slot, value, comparison);
        }

        // One actor: its sub (required), its kind claim (optional; an unknown kind fails closed) and its role claims (a
        // string or an array of strings; none: the policy's bindings).
        private static (string Id, SubjectKind? Kind, RoleBinding[]? Roles)? ReadActor(JsonElement actor, string roleKey, string kindKey, SubjectKind? defaultKind)
        {
            if (!TryGetUnique(actor, "sub", out var sub) || sub.ValueKind != JsonValueKind.String || sub.GetString() is not { Length: > 0 } id)
            {
                return null;
            }

            string? kindValue = null;
            if (TryGetUnique(actor, kindKey, out var kindElement))
            {
                if (kindElement.ValueKind != JsonValueKind.String)
                {
                    return null;
                }

                kindValue = kindElement.GetString();
            }

            if (!TryKind(kindValue, defaultKind, out var kind))
            {
                return null;
            }

            RoleBinding[]? roles = null;
            if (TryGetUnique(actor, roleKey, out var roleElement))
            {
                switch (roleElement.ValueKind)
                {
                    case JsonValueKind.String:
                        roles = [new RoleBinding(roleElement.GetString()!)];
                        break;
                    case JsonValueKind.Array:
                        List<RoleBinding> list = [];
                        foreach (var role in roleElement.EnumerateArray())
                        {
                            if (role.ValueKind != JsonValueKind.String)
                            {
                                return null;
                            }

                            string name = role.GetString()!;
                            if (!list.Exists(r => string.Equals(r.Role, name, StringComparison.Ordinal)))
                            {
                                list.Add(new RoleBinding(name));
                            }
                        }

                        roles = list.Count > 0 ? [.. list] : null;
                        break;
                    default:
                        return null;
                }
            }

            return (id, kind, roles);
        }

        // A property named once (ordinal); a repeated one fails closed, since readers disagree on which one counts.
        private static bool TryGetUnique(JsonElement element, string name, out JsonElement value)
        {
            value = default;
            bool found = false;
            foreach (var property in element.EnumerateObject())
            {
                if (property.NameEquals(name))
                {
                    if (found)
                    {
                        throw new JsonException($"'{name}' is repeated.");
                    }

                    value = property.Value;
                    found = true;
                }
            }

            return found;
        }
    }
}
