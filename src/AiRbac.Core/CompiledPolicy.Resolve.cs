namespace AiRbac;

public sealed partial class CompiledPolicy
{
    /// <summary>Resolves a subject's bindings against this policy. Cold path: runs once per subject and policy.</summary>
    private ResolvedSubject ResolveSlow(Subject subject)
    {
        string id = subject.Id;
        PolicySubject? known = null;
        if (id.Length > 0)
        {
            policySubjects.TryGetValue(id, out known);
        }

        var kind = subject.Kind ?? known?.Kind ?? SubjectKind.User;
        var bindings = new List<PolicyBinding>();
        bool invalid = false;
        if (subject.HasRoles)
        {
            foreach (var binding in subject.RoleSpan)
            {
                // A scope the caller passes must be well formed, like the resource's (step 2).
                invalid |= binding.Scope is not null && !Scope.IsValid(binding.Scope);
                bindings.Add(new PolicyBinding(binding.Role ?? string.Empty, binding.Scope, binding.Expires, false));
            }
        }
        else if (known is not null)
        {
            bindings.AddRange(known.Bindings);
        }

        var closures = new Dictionary<int, int[]>();
        var resolved = new List<ResolvedBinding>();
        bool isStatic = true, hasExpiry = false;
        int total = 0;
        foreach (var binding in bindings)
        {
            if (!roleLookup.TryGetValue(binding.Role, out int role))
            {
                continue; // undeclared roles are ignored (but still count as bindings for step 1)
            }

            if (!closures.TryGetValue(role, out var closure))
            {
                closure = Closure(role, kind);
                closures.Add(role, closure);
            }

            long expires = binding.Expires?.UtcTicks ?? long.MaxValue;
            resolved.Add(new ResolvedBinding(closure, binding.Scope, expires, binding.Never));
            total += closure.Length;
            hasExpiry |= binding.Expires is not null;
            isStatic &= binding.Scope is null && binding.Expires is null && !binding.Never;
        }

        if (isStatic && !invalid && id.Length > 0 && resolved.Count > 0)
        {
            var union = resolved.SelectMany(b => b.Closure).ToArray();
            Array.Sort(union);
            return StaticResolution(union[..Dedupe(union)]);
        }

        // Everything else: no identity, a bad binding scope, no declared role, or bindings that depend on the request.
        return new ResolvedSubject
        {
            Policy = this,
            MissingIdentity = id.Length == 0 || bindings.Count == 0,
            Invalid = invalid,
            Static = isStatic,
            HasExpiry = hasExpiry,
            Bindings = [.. resolved],
            ClosureTotal = total,
        };
    }

    /// <summary>
    /// The roles a binding to <paramref name="role"/> makes effective for a subject of <paramref name="kind"/>, sorted:
    /// the role and its ancestors, never entering (or passing through) a role whose kinds exclude the subject.
    /// </summary>
    internal int[] Closure(int role, SubjectKind kind)
    {
        byte bit = (byte)(1 << (int)kind);
        var seen = new HashSet<int>();
        var stack = new Stack<int>();
        if ((roles[role].KindMask & bit) != 0)
        {
            stack.Push(role);
            seen.Add(role);
        }

        while (stack.Count > 0)
        {
            foreach (int parent in roles[stack.Pop()].Parents)
            {
                if ((roles[parent].KindMask & bit) != 0 && seen.Add(parent))
                {
                    stack.Push(parent);
                }
            }
        }

        var result = seen.ToArray();
        Array.Sort(result);
        return result;
    }
}
