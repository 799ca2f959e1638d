// Inheritance: parents resolved, cycles found and reported, and every role's ancestors computed within
// MaxInheritanceDepth, MaxInheritedRoles and MaxInheritanceSteps.

using System.Globalization;
using AiRbac.Diagnostics;

namespace AiRbac;

internal sealed partial class CompilerRun
{
    // Every role's ancestors (sorted), when inheritance has no cycle and is within the limits.
    private int[][]? ancestors;

    // Every role's inheritance depth (steps up to its furthest ancestor), when inheritance has no cycle.
    private int[] roleDepth = [];

    // Cycle messages show at most this many roles of a long cycle: the first ones and the last ones.
    private const int MaxCycleRolesShown = 12;

    private int[][] ResolveInheritance()
    {
        var parents = new int[doc.Roles.Count][];
        var parentRefs = new int[doc.Roles.Count][];
        var distinct = new HashSet<int>();
        for (int i = 0; i < doc.Roles.Count; i++)
        {
            var list = new List<int>();
            var refs = new List<int>();
            distinct.Clear();
            var inherits = doc.Roles[i].Inherits;
            string where = inherits.Count == 0 ? string.Empty : $"role '{Q(doc.Roles[i].Name.Value)}' inherits";
            for (int k = 0; k < inherits.Count; k++)
            {
                if (TryRole(inherits[k], where, out int parent) && distinct.Add(parent))
                {
                    list.Add(parent);
                    refs.Add(k);
                }
            }

            parents[i] = [.. list];
            parentRefs[i] = [.. refs];
        }

        // Cycle detection: iterative depth-first search; a grey node reached again closes a cycle. Roles finish after
        // all their parents, so the finishing order is a topological order (parents first) when there is no cycle.
        var colour = new byte[parents.Length];
        var onPath = new int[parents.Length];
        var pathRoles = new List<int>();
        var pathNext = new List<int>();
        var finished = new List<int>(parents.Length);
        bool cycle = false;
        for (int start = 0; start < parents.Length; start++)
        {
            if (colour[start] != 0)
            {
                continue;
            }

            onPath[start] = 0;
            pathRoles.Add(start);
            pathNext.Add(0);
            colour[start] = 1;
            while (pathRoles.Count > 0)
            {
                int top = pathRoles.Count - 1;
                int role = pathRoles[top];
                int next = pathNext[top];
                if (next >= parents[role].Length)
                {
                    colour[role] = 2;
                    finished.Add(role);
                    pathRoles.RemoveAt(top);
                    pathNext.RemoveAt(top);
                    continue;
                }

                pathNext[top] = next + 1;
                int parent = parents[role][next];
                if (colour[parent] == 1)
                {
                    cycle = true;
                    var at = doc.Roles[role].Inherits[parentRefs[role][next]];
                    Error(DiagnosticCodes.InheritanceCycle, $"inheritance cycle: {CyclePath(pathRoles, onPath[parent], parent)}", at.Location);
                }
                else if (colour[parent] == 0)
                {
                    colour[parent] = 1;
                    onPath[parent] = pathRoles.Count;
                    pathRoles.Add(parent);
                    pathNext.Add(0);
                }
            }
        }

        if (!cycle)
        {
            ancestors = ComputeAncestors(parents, finished);
        }

        return parents;
    }

    /// <summary>The roles of a cycle, from the first role on it back to that role; a long cycle shows its ends only.</summary>
    private string CyclePath(List<int> path, int from, int closing)
    {
        int length = path.Count - from;
        IEnumerable<int> shown = length <= MaxCycleRolesShown
            ? path.Skip(from).Take(length)
            : path.Skip(from).Take(MaxCycleRolesShown / 2);
        var names = shown.Select(r => Q(doc.Roles[r].Name.Value)).ToList();
        if (length > MaxCycleRolesShown)
        {
            names.Add(string.Create(CultureInfo.InvariantCulture, $"... ({length - MaxCycleRolesShown} more roles)"));
            names.AddRange(path.Skip(path.Count - (MaxCycleRolesShown / 2)).Select(r => Q(doc.Roles[r].Name.Value)));
        }

        names.Add(Q(doc.Roles[closing].Name.Value));
        return string.Join(" -> ", names);
    }

    /// <summary>
    /// Every role's ancestors (sorted role indices), each computed once from its parents' in topological order; null
    /// after a <see cref="PolicyCompilerOptions.MaxInheritanceDepth"/> or <see cref="PolicyCompilerOptions.MaxInheritedRoles"/> error.
    /// </summary>
    private int[][]? ComputeAncestors(int[][] parents, List<int> topological)
    {
        var depth = roleDepth = new int[parents.Length];
        bool tooDeep = false;
        foreach (int role in topological)
        {
            foreach (int parent in parents[role])
            {
                depth[role] = Math.Max(depth[role], depth[parent] + 1);
            }

            // Reported once per path: at the roles one step past the limit.
            if (depth[role] == options.MaxInheritanceDepth + 1)
            {
                tooDeep = true;
                Error(DiagnosticCodes.LimitExceeded, string.Create(CultureInfo.InvariantCulture,
                    $"role '{Q(doc.Roles[role].Name.Value)}' is {depth[role]} inheritance steps below its furthest ancestor; at most {options.MaxInheritanceDepth} (MaxInheritanceDepth) are supported"),
                    doc.Roles[role].Name.Location);
            }
        }

        if (tooDeep)
        {
            return null;
        }

        var result = new int[parents.Length][];
        var stamp = new int[parents.Length];
        Array.Fill(stamp, -1);
        long total = 0;
        var list = new List<int>();
        long steps = 0;
        foreach (int role in topological)
        {
            list.Clear();

            // Deepest parents first: a parent already reached as another parent's ancestor brings nothing new, so its
            // own ancestors are skipped. What is left is counted and bounded (MaxInheritanceSteps) as it is done.
            var byDepth = parents[role];
            if (byDepth.Length > 1)
            {
                byDepth = [.. byDepth];
                Array.Sort(byDepth, (a, b) => depth[b].CompareTo(depth[a]));
            }

            foreach (int parent in byDepth)
            {
                steps++;
                if (stamp[parent] == role)
                {
                    continue;
                }

                stamp[parent] = role;
                list.Add(parent);
                steps += result[parent].Length;
                if (steps > options.MaxInheritanceSteps)
                {
                    Error(DiagnosticCodes.LimitExceeded, string.Create(CultureInfo.InvariantCulture,
                        $"computing the roles' inherited roles needs more than {options.MaxInheritanceSteps} steps (MaxInheritanceSteps; per role, each parent and each inherited role of a parent not reached before), reached at role '{Q(doc.Roles[role].Name.Value)}'"),
                        doc.Roles[role].Name.Location);
                    return null;
                }

                foreach (int ancestor in result[parent])
                {
                    if (stamp[ancestor] != role)
                    {
                        stamp[ancestor] = role;
                        list.Add(ancestor);
                    }
                }
            }

            total += list.Count;
            if (total > options.MaxInheritedRoles)
            {
                Error(DiagnosticCodes.LimitExceeded, string.Create(CultureInfo.InvariantCulture,
                    $"the roles inherit more than {options.MaxInheritedRoles} roles in total (MaxInheritedRoles; each role's direct and indirect ancestors, summed over roles), reached at role '{Q(doc.Roles[role].Name.Value)}'"),
                    doc.Roles[role].Name.Location);
                return null;
            }

            int[] sorted = [.. list];
            Array.Sort(sorted);
            result[role] = sorted;
        }

        return result;
    }
}
