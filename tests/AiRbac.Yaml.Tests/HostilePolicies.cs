using System.Text;

namespace AiRbac.Yaml.Tests;

/// <summary>
/// Generators of small but hostile policies: each is a few megabytes at most, well within the YAML limits, and aims at
/// one compile step whose cost could grow faster than the file.
/// </summary>
internal static class HostilePolicies
{
    private static StringBuilder Header() => new("version: 1\nroles:\n");

    /// <summary>One role with <paramref name="n"/> glob actions and <paramref name="n"/> exact actions (glob × action table).</summary>
    public static string GlobActions(int n)
    {
        var yaml = Header().Append("  r:\n    allow:\n");
        for (int i = 0; i < n; i++)
        {
            yaml.Append("      - g").Append(i).Append(":* on x:y\n");
            yaml.Append("      - g").Append(i).Append(":v on x:y\n");
        }

        return yaml.ToString();
    }

    /// <summary><paramref name="n"/> short, distinct grants spread over roles of 1,000 rules each (the cost per rule).</summary>
    public static string ManyRules(int n)
    {
        var yaml = Header();
        for (int i = 0; i < n; i++)
        {
            if (i % 1_000 == 0)
            {
                yaml.Append("  r").Append(i / 1_000).Append(":\n    allow:\n");
            }

            yaml.Append("      - a:v on x:").Append(i).Append('\n');
        }

        return yaml.ToString();
    }

    /// <summary>One role with <paramref name="n"/> grants and <paramref name="n"/> denies (shadowing lint).</summary>
    public static string AllowDenyPairs(int n)
    {
        var yaml = Header().Append("  r:\n    allow:\n");
        for (int i = 0; i < n; i++)
        {
            yaml.Append("      - a:v on x:a").Append(i).Append('\n');
        }

        yaml.Append("    deny:\n");
        for (int i = 0; i < n; i++)
        {
            yaml.Append("      - a:v on x:d").Append(i).Append("*\n");
        }

        return yaml.ToString();
    }

    /// <summary><paramref name="n"/> catalog globs and <paramref name="n"/> glob grants (catalog entry of each rule).</summary>
    public static string Catalog(int n)
    {
        var yaml = Header().Append("  r:\n    allow:\n");
        for (int i = 0; i < n; i++)
        {
            yaml.Append("      - a:v on x:r").Append(i).Append("*\n");
        }

        yaml.Append("resources:\n");
        for (int i = 0; i < n; i++)
        {
            yaml.Append("  - {match: \"x:c").Append(i).Append("*\", sensitivity: internal}\n");
        }

        return yaml.ToString();
    }

    /// <summary><paramref name="n"/> roles, each inheriting the one before it.</summary>
    public static string Chain(int n)
    {
        var yaml = Header().Append("  r0: {allow: [\"a:v on x:y\"]}\n");
        for (int i = 1; i < n; i++)
        {
            yaml.Append("  r").Append(i).Append(": {inherits: [r").Append(i - 1).Append("]}\n");
        }

        return yaml.ToString();
    }

    /// <summary><paramref name="layers"/> layers of <paramref name="width"/> roles, each inheriting every role of the layer before.</summary>
    public static string Wide(int width, int layers)
    {
        var yaml = Header();
        for (int l = 0; l < layers; l++)
        {
            for (int w = 0; w < width; w++)
            {
                yaml.Append("  l").Append(l).Append('w').Append(w).Append(": {allow: [\"a:v on x:y\"]");
                if (l > 0)
                {
                    yaml.Append(", inherits: [");
                    for (int p = 0; p < width; p++)
                    {
                        yaml.Append(p == 0 ? string.Empty : ",").Append('l').Append(l - 1).Append('w').Append(p);
                    }

                    yaml.Append(']');
                }

                yaml.Append("}\n");
            }
        }

        return yaml.ToString();
    }

    /// <summary>A chain of <paramref name="depth"/> roles and <paramref name="subjects"/> subjects bound to its last role.</summary>
    public static string SubjectsOnChain(int depth, int subjects)
    {
        var yaml = new StringBuilder(Chain(depth)).Append("bindings:\n  subjects:\n");
        for (int i = 0; i < subjects; i++)
        {
            yaml.Append("    s").Append(i).Append(": {roles: [r").Append(depth - 1).Append("]}\n");
        }

        return yaml.ToString();
    }

    /// <summary><paramref name="sets"/> mutually exclusive pairs over as many roles, and <paramref name="subjects"/> subjects.</summary>
    public static string ExclusiveSets(int sets, int subjects)
    {
        var yaml = Header();
        for (int i = 0; i <= sets; i++)
        {
            yaml.Append("  r").Append(i).Append(": {allow: [\"a:v on x:y\"]}\n");
        }

        yaml.Append("constraints:\n  mutually_exclusive:\n");
        for (int i = 0; i < sets; i++)
        {
            yaml.Append("    - [r0, r").Append(i + 1).Append("]\n");
        }

        yaml.Append("bindings:\n  subjects:\n");
        for (int i = 0; i < subjects; i++)
        {
            yaml.Append("    s").Append(i).Append(": {roles: [r0]}\n");
        }

        return yaml.ToString();
    }

    /// <summary>One group of <paramref name="roles"/> bindings named by <paramref name="subjects"/> subjects.</summary>
    public static string GroupFanOut(int roles, int subjects)
    {
        var yaml = Header();
        for (int i = 0; i < roles; i++)
        {
            yaml.Append("  r").Append(i).Append(": {allow: [\"a:v on x:y\"]}\n");
        }

        yaml.Append("bindings:\n  groups:\n    g: [");
        for (int i = 0; i < roles; i++)
        {
            yaml.Append(i == 0 ? "r" : ", r").Append(i);
        }

        yaml.Append("]\n  subjects:\n");
        for (int i = 0; i < subjects; i++)
        {
            yaml.Append("    s").Append(i).Append(": {groups: [g]}\n");
        }

        return yaml.ToString();
    }

    /// <summary>One role inheriting the same <paramref name="n"/> roles over and over (duplicate parents).</summary>
    public static string ManyInherits(int n)
    {
        var yaml = Header().Append("  p: {allow: [\"a:v on x:y\"]}\n  r: {inherits: [");
        for (int i = 0; i < n; i++)
        {
            yaml.Append(i == 0 ? "p" : ",p");
        }

        return yaml.Append("]}\n").ToString();
    }

    /// <summary><paramref name="n"/> references to undeclared roles among <paramref name="n"/> declared ones (spelling hints).</summary>
    public static string UndeclaredReferences(int n)
    {
        var yaml = Header();
        for (int i = 0; i < n; i++)
        {
            yaml.Append("  role").Append(i.ToString("D6", System.Globalization.CultureInfo.InvariantCulture)).Append(": {inherits: [rolX")
                .Append(i.ToString("D6", System.Globalization.CultureInfo.InvariantCulture)).Append("]}\n");
        }

        return yaml.ToString();
    }

    /// <summary>A chain of <paramref name="n"/> roles where every role also inherits the last one (a cycle at every depth).</summary>
    public static string DeepCycles(int n)
    {
        var yaml = Header();
        for (int i = 0; i < n; i++)
        {
            yaml.Append("  r").Append(i).Append(": {inherits: [r").Append(i + 1 < n ? i + 1 : 0).Append(i > 0 ? ", r0" : string.Empty).Append("]}\n");
        }

        return yaml.ToString();
    }

    /// <summary><paramref name="n"/> not_by_owner globs and <paramref name="n"/> exact actions.</summary>
    public static string NotByOwner(int n)
    {
        var yaml = Header().Append("  r:\n    allow:\n");
        for (int i = 0; i < n; i++)
        {
            yaml.Append("      - g").Append(i).Append(":v on x:y\n");
        }

        yaml.Append("constraints:\n  not_by_owner:\n");
        for (int i = 0; i < n; i++)
        {
            yaml.Append("    - \"n").Append(i).Append(":*\"\n");
        }

        return yaml.ToString();
    }

    /// <summary><paramref name="types"/> typed catalog entries and <paramref name="untyped"/> untyped ones (per-type lists).</summary>
    public static string CatalogTypes(int types, int untyped)
    {
        var yaml = Header().Append("  r: {allow: [\"a:v on x:y\"]}\nresources:\n");
        for (int i = 0; i < untyped; i++)
        {
            yaml.Append("  - {match: \"u").Append(i).Append("*\"}\n");
        }

        for (int i = 0; i < types; i++)
        {
            yaml.Append("  - {match: \"t").Append(i).Append(":x\"}\n");
        }

        return yaml.ToString();
    }

    private static string Run(char c, int length) => new(c, length);

    // A glob of about <paramref name="length"/> characters with one token per two characters ("x:*a*a...*ab"), sharing
    // its literal prefix with the long names below, so no comparison stops early.
    private static string LongGlob(int length) => "x:" + new StringBuilder().Insert(0, "*a", length / 2) + "b";

    private static string LongName(int length, int i) => "x:" + Run('a', length) + i.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>One role with <paramref name="n"/> exact grants and <paramref name="n"/> glob denies, each about <paramref name="length"/> characters long.</summary>
    public static string LongAllowDeny(int n, int length)
    {
        var yaml = Header().Append("  r:\n    max_sensitivity: public\n    allow:\n");
        for (int i = 0; i < n; i++)
        {
            yaml.Append("      - a:v on ").Append(LongName(length, i)).Append('\n');
        }

        yaml.Append("    deny:\n");
        string glob = LongGlob(length);
        for (int i = 0; i < n; i++)
        {
            yaml.Append("      - \"a:v on ").Append(glob).Append(i).Append("\"\n");
        }

        return yaml.ToString();
    }

    /// <summary><paramref name="n"/> exact grants and <paramref name="n"/> catalog globs, each about <paramref name="length"/> characters long.</summary>
    public static string LongCatalog(int n, int length)
    {
        var yaml = Header().Append("  r:\n    max_sensitivity: public\n    allow:\n");
        for (int i = 0; i < n; i++)
        {
            yaml.Append("      - a:v on ").Append(LongName(length, i)).Append('\n');
        }

        yaml.Append("resources:\n");
        string glob = LongGlob(length);
        for (int i = 0; i < n; i++)
        {
            yaml.Append("  - {match: \"").Append(glob).Append(i).Append("\"}\n");
        }

        return yaml.ToString();
    }

    /// <summary><paramref name="n"/> glob grants and <paramref name="n"/> exact catalog entries, each about <paramref name="length"/> characters long.</summary>
    public static string LongCatalogReversed(int n, int length)
    {
        var yaml = Header().Append("  r:\n    max_sensitivity: public\n    allow:\n");
        string glob = LongGlob(length);
        for (int i = 0; i < n; i++)
        {
            yaml.Append("      - \"a:v on ").Append(glob).Append(i).Append("\"\n");
        }

        yaml.Append("resources:\n");
        for (int i = 0; i < n; i++)
        {
            yaml.Append("  - {match: \"").Append(LongName(length, i)).Append("\"}\n");
        }

        return yaml.ToString();
    }

    /// <summary>
    /// <paramref name="n"/> glob grants (<c>x:z7*a*a…</c>) and <paramref name="n"/> classified catalog globs
    /// (<c>x:*a*a…q7</c>), each about <paramref name="length"/> characters with a token per two: every pair overlaps
    /// by its short literal prefixes, and deciding that once walked every token of both patterns.
    /// </summary>
    public static string StarryCatalog(int n, int length)
    {
        var yaml = Header().Append("  r:\n    max_sensitivity: internal\n    allow:\n");
        string stars = new StringBuilder().Insert(0, "*a", length / 2).ToString();
        for (int i = 0; i < n; i++)
        {
            yaml.Append("      - \"a:v on x:z").Append(i).Append(stars).Append("\"\n");
        }

        yaml.Append("resources:\n");
        for (int i = 0; i < n; i++)
        {
            yaml.Append("  - {match: \"x:").Append(stars).Append('q').Append(i).Append("\", sensitivity: internal}\n");
        }

        return yaml.ToString();
    }

    /// <summary>
    /// <paramref name="n"/> grants <c>x:aaa…a7*</c> and <paramref name="n"/> catalog entries <c>x:aaa…aq7*</c>, each
    /// literal prefix about <paramref name="length"/> characters: no pair overlaps, but each is told apart only at the
    /// end of the shared prefix.
    /// </summary>
    public static string SharedPrefixCatalog(int n, int length)
    {
        var yaml = Header().Append("  r:\n    max_sensitivity: internal\n    allow:\n");
        string prefix = Run('a', length);
        for (int i = 0; i < n; i++)
        {
            yaml.Append("      - \"a:v on x:").Append(prefix).Append(i).Append("*\"\n");
        }

        yaml.Append("resources:\n");
        for (int i = 0; i < n; i++)
        {
            yaml.Append("  - {match: \"x:").Append(prefix).Append('q').Append(i).Append("*\", sensitivity: internal}\n");
        }

        return yaml.ToString();
    }

    /// <summary>
    /// <paramref name="globs"/> action globs (<c>**</c> then a long literal) and <paramref name="actions"/> exact actions,
    /// about <paramref name="length"/> and half as many characters long: the glob table (or, with <paramref name="notByOwner"/>, the
    /// not_by_owner table).
    /// </summary>
    public static string LongGlobTable(int globs, int actions, int length, bool notByOwner = false)
    {
        var yaml = Header().Append("  r:\n    allow:\n");
        // The glob's literal is half as long as the actions: it is tried at every position of their first half.
        string literal = Run('a', length / 2);
        for (int i = 0; i < actions; i++)
        {
            yaml.Append("      - g").Append(Run('a', length)).Append(i).Append(" on x:y\n");
        }

        if (!notByOwner)
        {
            for (int i = 0; i < globs; i++)
            {
                yaml.Append("      - \"g**").Append(literal).Append('b').Append(i).Append(" on x:y\"\n");
            }
        }
        else
        {
            yaml.Append("constraints:\n  not_by_owner:\n");
            for (int i = 0; i < globs; i++)
            {
                yaml.Append("    - \"g**").Append(literal).Append('b').Append(i).Append("\"\n");
            }
        }

        return yaml.ToString();
    }

    /// <summary>
    /// Three layers of <paramref name="width"/> roles: each role of layers 1 and 2 inherits every role of the layer
    /// before, so every role of layer 2 reaches the roles of layer 0 through each of its parents.
    /// </summary>
    public static string OverlappingLayers(int width) => Wide(width, 3);

    /// <summary><paramref name="tiers"/> tiers and <paramref name="entries"/> catalog entries naming the last one (or an undeclared one).</summary>
    public static string ManyTiers(int tiers, int entries, bool undeclared = false)
    {
        var yaml = new StringBuilder("version: 1\nsensitivity: [");
        for (int i = 0; i < tiers; i++)
        {
            yaml.Append(i == 0 ? "t" : ",t").Append(i);
        }

        yaml.Append("]\nroles:\n  r: {allow: [\"a:v on x:y\"], max_sensitivity: t0}\nresources:\n");
        string tier = undeclared ? "u" : "t" + (tiers - 1).ToString(System.Globalization.CultureInfo.InvariantCulture);
        for (int i = 0; i < entries; i++)
        {
            yaml.Append("  - {match: \"x:").Append(i).Append("\", sensitivity: ").Append(tier).Append("}\n");
        }

        return yaml.ToString();
    }

    /// <summary>A role with a name <paramref name="nameLength"/> long and id <c>a</c>, and <paramref name="n"/> roles reusing that id.</summary>
    public static string DuplicateIds(int n, int nameLength)
    {
        var yaml = Header().Append("  ").Append(Run('n', nameLength)).Append(": {id: a, allow: [\"a:v on x:y\"]}\n");
        for (int i = 0; i < n; i++)
        {
            yaml.Append("  r").Append(i).Append(": {id: a}\n");
        }

        return yaml.ToString();
    }

    /// <summary>One rule text <paramref name="length"/> long, anchored once and used <paramref name="n"/> times through aliases.</summary>
    public static string AliasedLongRules(int n, int length)
    {
        var yaml = Header().Append("  r:\n    allow:\n      - &a \"a:v on x:").Append(Run('a', length)).Append("\"\n");
        for (int i = 1; i < n; i++)
        {
            yaml.Append("      - *a\n");
        }

        return yaml.ToString();
    }

    /// <summary>A role whose name is <paramref name="nameLength"/> long, inheriting the same role <paramref name="n"/> times (per-reference messages).</summary>
    public static string LongNameInherits(int n, int nameLength)
    {
        var yaml = Header().Append("  p: {allow: [\"a:v on x:y\"]}\n  ? ").Append(Run('n', nameLength)).Append("\n  : {inherits: [");
        for (int i = 0; i < n; i++)
        {
            yaml.Append(i == 0 ? "p" : ",p");
        }

        return yaml.Append("]}\n").ToString();
    }

    /// <summary>A group whose name is <paramref name="nameLength"/> long, binding one role <paramref name="n"/> times.</summary>
    public static string LongNameGroup(int n, int nameLength)
    {
        var yaml = Header().Append("  r: {allow: [\"a:v on x:y\"]}\nbindings:\n  groups:\n    ? ").Append(Run('g', nameLength)).Append("\n    : [");
        for (int i = 0; i < n; i++)
        {
            yaml.Append(i == 0 ? "r" : ",r");
        }

        return yaml.Append("]\n").ToString();
    }

    /// <summary>
    /// <paramref name="tiers"/> tiers each <paramref name="tierLength"/> long, and <paramref name="entries"/> catalog entries
    /// naming an undeclared tier (each error lists declared tiers).
    /// </summary>
    public static string LongTiersUndeclared(int tiers, int tierLength, int entries)
    {
        var yaml = new StringBuilder("version: 1\nsensitivity: [");
        for (int i = 0; i < tiers; i++)
        {
            yaml.Append(i == 0 ? string.Empty : ",").Append(Run('t', tierLength)).Append(i);
        }

        yaml.Append("]\nroles:\n  r: {allow: [\"a:v on x:y\"]}\nresources:\n");
        for (int i = 0; i < entries; i++)
        {
            yaml.Append("  - {match: \"x:").Append(i).Append("\", sensitivity: u}\n");
        }

        return yaml.ToString();
    }

    /// <summary>A role whose name is <paramref name="nameLength"/> long with <paramref name="n"/> grants of everything (one warning each).</summary>
    public static string LongNameWarnings(int n, int nameLength)
    {
        var yaml = Header().Append("  ? ").Append(Run('n', nameLength)).Append("\n  : max_sensitivity: restricted\n    allow:\n");
        for (int i = 0; i < n; i++)
        {
            yaml.Append("      - \"** on **\"\n");
        }

        return yaml.ToString();
    }
}
