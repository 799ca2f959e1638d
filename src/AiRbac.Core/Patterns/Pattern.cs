using System.Buffers;

namespace AiRbac.Patterns;

/// <summary>The shape of a compiled pattern; the matcher is chosen by shape.</summary>
internal enum PatternShape : byte
{
    /// <summary>No wildcard: compared by interned id.</summary>
    Exact,

    /// <summary><c>**</c> alone: matches everything.</summary>
    All,

    /// <summary>A literal followed by a single <c>*</c>: prefix, then no <c>/</c>.</summary>
    PrefixNoSlash,

    /// <summary>A literal followed by <c>**</c>: prefix, then anything.</summary>
    PrefixAny,

    /// <summary>Anything else: a token program run by <see cref="Pattern.MatchGeneral"/>.</summary>
    General,
}

/// <summary>One token of a general pattern.</summary>
internal readonly record struct PatternToken(PatternTokenKind Kind, string? Literal, ClassRange[]? Ranges, bool Negated);

/// <summary>The kinds of pattern token.</summary>
internal enum PatternTokenKind : byte
{
    Literal,
    AnyOne,
    Class,
    Star,
    DoubleStar,
}

/// <summary>An inclusive character range of a class (<c>[a-z]</c>); a single character is a range of one.</summary>
internal readonly record struct ClassRange(char Low, char High);

/// <summary>
/// A glob pattern of docs/policy-language.md, section 3, parsed once. <c>*</c> matches a run without <c>/</c>, <c>**</c> any run,
/// <c>?</c> one code unit except <c>/</c>, classes one code unit (never <c>/</c>). No escapes, no braces.
/// </summary>
internal sealed class Pattern
{
    // Texts up to this length are matched with stack buffers; longer ones rent from the shared pool.
    private const int StackLimit = Tuning.Tables.PatternStackLimit;

    private Pattern(string text, PatternShape shape, string literal, PatternToken[] tokens)
    {
        Text = text;
        Shape = shape;
        Literal = literal;
        Tokens = tokens;
        LastSlashInLiteral = literal.LastIndexOf('/');
        TextHash = string.GetHashCode(text, StringComparison.Ordinal);
        foreach (var token in tokens)
        {
            HasDoubleStar |= token.Kind == PatternTokenKind.DoubleStar;
            LiteralSlashes += token.Kind == PatternTokenKind.Literal ? token.Literal!.AsSpan().Count('/') : 0;
        }
    }

    /// <summary>The pattern as written.</summary>
    public string Text { get; }

    /// <summary>The shape that picks the matcher.</summary>
    public PatternShape Shape { get; }

    /// <summary>For <see cref="PatternShape.Exact"/> the name; for prefix shapes the prefix; else the literal text before the first wildcard.</summary>
    public string Literal { get; }

    /// <summary>The token program (every shape has one, so any pattern can also run the general matcher).</summary>
    public PatternToken[] Tokens { get; }

    /// <summary>The <c>/</c> of all literal tokens together: every text the pattern matches holds at least these.</summary>
    public int LiteralSlashes { get; }

    /// <summary>Whether a token is <c>**</c>, the only one that matches a <c>/</c>.</summary>
    public bool HasDoubleStar { get; }

    /// <summary>The offset of the last <c>/</c> of <see cref="Literal"/>, or -1 (for an exact pattern, of its name).</summary>
    public int LastSlashInLiteral { get; }

    /// <summary>The ordinal hash of <see cref="Text"/> (randomized per process): two texts of different hashes differ.</summary>
    public int TextHash { get; }

    /// <summary>Whether the pattern has no wildcard.</summary>
    public bool IsExact => Shape == PatternShape.Exact;

    /// <summary>Parses a pattern, or explains why it is invalid.</summary>
    /// <param name="text">The pattern.</param>
    /// <param name="pattern">The parsed pattern.</param>
    /// <param name="error">Why the pattern is invalid.</param>
    /// <returns>Whether the pattern is valid.</returns>
    public static bool TryParse(string text, out Pattern? pattern, out string? error)
    {
        pattern = null;
        error = null;
        if (text.Length == 0)
        {
            error = "a pattern cannot be empty";
            return false;
        }

        // Most patterns are exact names: no tokenizing needed (policies hold tens of thousands of them).
        if (text.AsSpan().IndexOfAny('*', '?', '[') < 0)
        {
            pattern = new Pattern(text, PatternShape.Exact, text, [new PatternToken(PatternTokenKind.Literal, text, null, false)]);
            return true;
        }

        // One token list per thread, reused: a long glob of many tokens would otherwise allocate its tokens about three
        // times over while the list grows.
        var tokens = tokenBuffer ??= new List<PatternToken>(16);
        tokens.Clear();
        int literalStart = 0;
        int i = 0;
        while (i < text.Length)
        {
            char c = text[i];
            if (c != '*' && c != '?' && c != '[')
            {
                i++;
                continue;
            }

            if (i > literalStart)
            {
                tokens.Add(new PatternToken(PatternTokenKind.Literal, Slice(text, literalStart, i), null, false));
            }

            if (c == '*')
            {
                int run = 0;
                while (i < text.Length && text[i] == '*')
                {
                    run++;
                    i++;
                }

                // A run of two or more stars is one '**'.
                tokens.Add(new PatternToken(run >= 2 ? PatternTokenKind.DoubleStar : PatternTokenKind.Star, null, null, false));
            }
            else if (c == '?')
            {
                tokens.Add(new PatternToken(PatternTokenKind.AnyOne, null, null, false));
                i++;
            }
            else
            {
                if (!TryParseClass(text, ref i, out var token, out error))
                {
                    return false;
                }

                tokens.Add(token);
            }

            literalStart = i;
        }

        if (i > literalStart)
        {
            tokens.Add(new PatternToken(PatternTokenKind.Literal, Slice(text, literalStart, i), null, false));
        }

        pattern = Classify(text, [.. tokens]);
        tokens.Clear();
        if (tokens.Capacity > MaxKeptTokens)
        {
            tokenBuffer = null;
        }

        return true;
    }

    // The reused token list of TryParse, dropped after a pattern of more tokens than this.
    private const int MaxKeptTokens = Tuning.Tables.PatternMaxKeptTokens;

    [ThreadStatic]
    private static List<PatternToken>? tokenBuffer;

    // Literal tokens of one ASCII character (as between the stars of "*a*b*c") share one string each.
    private static readonly string[] OneCharacter = [.. Enumerable.Range(0, 128).Select(c => ((char)c).ToString())];

    private static string Slice(string text, int start, int end) =>
        end - start == 1 && text[start] < OneCharacter.Length ? OneCharacter[text[start]] : text[start..end];

    private static bool TryParseClass(string text, ref int i, out PatternToken token, out string? error)
    {
        token = default;
        error = null;
        int start = i;
        i++; // '['
        bool negated = false;
        if (i < text.Length && text[i] == '!')
        {
            negated = true;
            i++;
        }

        int bodyStart = i;
        int close = text.IndexOf(']', bodyStart);
        if (close < 0)
        {
            error = $"the class opened at offset {start} is not closed";
            return false;
        }

        if (close == bodyStart)
        {
            error = $"the class at offset {start} is empty";
            return false;
        }

        var ranges = new List<ClassRange>();
        int j = bodyStart;
        while (j < close)
        {
            char low = text[j];
            // '-' between two characters makes a range; first or last it is literal.
            if (j + 2 < close && text[j + 1] == '-')
            {
                char high = text[j + 2];
                if (high < low)
                {
                    error = $"the range '{low}-{high}' does not ascend";
                    return false;
                }

                ranges.Add(new ClassRange(low, high));
                j += 3;
            }
            else
            {
                ranges.Add(new ClassRange(low, low));
                j++;
            }
        }

        i = close + 1;
        token = new PatternToken(PatternTokenKind.Class, null, [.. ranges], negated);
        return true;
    }

    private static Pattern Classify(string text, PatternToken[] tokens)
    {
        if (tokens.Length == 1 && tokens[0].Kind == PatternTokenKind.Literal)
        {
            return new Pattern(text, PatternShape.Exact, text, tokens);
        }

        if (tokens.Length == 1 && tokens[0].Kind == PatternTokenKind.DoubleStar)
        {
            return new Pattern(text, PatternShape.All, string.Empty, tokens);
        }

        if (tokens.Length == 1 && tokens[0].Kind == PatternTokenKind.Star)
        {
            return new Pattern(text, PatternShape.PrefixNoSlash, string.Empty, tokens);
        }

        if (tokens.Length == 2 && tokens[0].Kind == PatternTokenKind.Literal)
        {
            if (tokens[1].Kind == PatternTokenKind.Star)
            {
                return new Pattern(text, PatternShape.PrefixNoSlash, tokens[0].Literal!, tokens);
            }

            if (tokens[1].Kind == PatternTokenKind.DoubleStar)
            {
                return new Pattern(text, PatternShape.PrefixAny, tokens[0].Literal!, tokens);
            }
        }

        string lead = tokens[0].Kind == PatternTokenKind.Literal ? tokens[0].Literal! : string.Empty;
        return new Pattern(text, PatternShape.General, lead, tokens);
    }

    /// <summary>Matches a whole text (ordinal, case-sensitive). Allocation-free.</summary>
    /// <param name="value">The text.</param>
    /// <returns>Whether the pattern matches all of it.</returns>
    public bool IsMatch(ReadOnlySpan<char> value) => Shape switch
    {
        PatternShape.Exact => value.SequenceEqual(Literal),
        PatternShape.All => true,
        PatternShape.PrefixNoSlash => value.StartsWith(Literal, StringComparison.Ordinal)
            && !value[Literal.Length..].Contains('/'),
        PatternShape.PrefixAny => value.StartsWith(Literal, StringComparison.Ordinal),
        _ => MatchGeneral(value),
    };

    /// <summary>
    /// Runs the token program as a set-of-positions simulation: O(tokens × length), no backtracking,
    /// so no pattern can make matching exponential.
    /// </summary>
    /// <param name="value">The text.</param>
    /// <returns>Whether the pattern matches all of it.</returns>
    public bool MatchGeneral(ReadOnlySpan<char> value)
    {
        if (Literal.Length > 0 && !value.StartsWith(Literal, StringComparison.Ordinal))
        {
            return false;
        }

        int n = value.Length;
        if (n < 64)
        {
            return MatchBits(value);
        }

        bool[]? rented = null;
        Span<bool> buffer = n + 1 <= StackLimit
            ? stackalloc bool[2 * (n + 1)]
            : (rented = ArrayPool<bool>.Shared.Rent(2 * (n + 1)));
        Span<bool> current = buffer[..(n + 1)];
        Span<bool> next = buffer.Slice(n + 1, n + 1);
        current.Clear();
        current[0] = true;
        bool any = true;
        foreach (var token in Tokens)
        {
            if (!any)
            {
                break;
            }

            next.Clear();
            any = Step(token, value, current, next);
            var swap = current;
            current = next;
            next = swap;
        }

        bool result = any && current[n];
        if (rented is not null)
        {
            ArrayPool<bool>.Shared.Return(rented);
        }

        return result;
    }

    /// <summary>
    /// The same simulation for texts shorter than 64 code units, with the set of positions (0..n) as the bits of a
    /// ulong: each token is a few word operations instead of a pass over a bool array.
    /// </summary>
    private bool MatchBits(ReadOnlySpan<char> value)
    {
        int n = value.Length;
        ulong all = n == 63 ? ulong.MaxValue : (1UL << (n + 1)) - 1;
        ulong notSlash = 0; // bit i: value[i] exists and is not '/'
        for (int i = 0; i < n; i++)
        {
            if (value[i] != '/')
            {
                notSlash |= 1UL << i;
            }
        }

        ulong current = 1;
        foreach (var token in Tokens)
        {
            switch (token.Kind)
            {
                case PatternTokenKind.Literal:
                    {
                        var literal = token.Literal.AsSpan();
                        ulong next = 0;
                        for (ulong seeds = current; seeds != 0; seeds &= seeds - 1)
                        {
                            int i = System.Numerics.BitOperations.TrailingZeroCount(seeds);
                            if (i + literal.Length <= n && value.Slice(i, literal.Length).SequenceEqual(literal))
                            {
                                next |= 1UL << (i + literal.Length);
                            }
                        }

                        current = next;
                        break;
                    }

                case PatternTokenKind.AnyOne:
                    current = (current & notSlash) << 1;
                    break;

                case PatternTokenKind.Class:
                    {
                        ulong next = 0;
                        for (ulong seeds = current & notSlash; seeds != 0; seeds &= seeds - 1)
                        {
                            int i = System.Numerics.BitOperations.TrailingZeroCount(seeds);
                            if (InClass(token, value[i]))
                            {
                                next |= 1UL << (i + 1);
                            }
                        }

                        current = next;
                        break;
                    }

                case PatternTokenKind.Star:
                    // Carry propagation spreads each seed upward through its run of non-'/' positions.
                    current |= ((current & notSlash) + notSlash) ^ notSlash;
                    break;

                default:
                    // '**': every position from the lowest reachable one on.
                    current = current == 0 ? 0 : ~((current & (0 - current)) - 1);
                    break;
            }

            current &= all;
            if (current == 0)
            {
                return false;
            }
        }

        return (current & (1UL << n)) != 0;
    }

    private static bool Step(in PatternToken token, ReadOnlySpan<char> value, Span<bool> current, Span<bool> next)
    {
        int n = value.Length;
        bool any = false;
        switch (token.Kind)
        {
            case PatternTokenKind.Literal:
                {
                    var literal = token.Literal.AsSpan();
                    for (int i = 0; i + literal.Length <= n; i++)
                    {
                        if (current[i] && value.Slice(i, literal.Length).SequenceEqual(literal))
                        {
                            next[i + literal.Length] = true;
                            any = true;
                        }
                    }

                    break;
                }

            case PatternTokenKind.AnyOne:
                for (int i = 0; i < n; i++)
                {
                    if (current[i] && value[i] != '/')
                    {
                        next[i + 1] = true;
                        any = true;
                    }
                }

                break;

            case PatternTokenKind.Class:
                for (int i = 0; i < n; i++)
                {
                    if (current[i] && value[i] != '/' && InClass(token, value[i]))
                    {
                        next[i + 1] = true;
                        any = true;
                    }
                }

                break;

            case PatternTokenKind.Star:
                {
                    bool reach = false;
                    for (int i = 0; i <= n; i++)
                    {
                        if (current[i])
                        {
                            reach = true;
                        }

                        if (reach)
                        {
                            next[i] = true;
                            any = true;
                        }

                        // A single star cannot cross '/': the run ends before it.
                        if (i < n && value[i] == '/')
                        {
                            reach = false;
                        }
                    }

                    break;
                }

            default:
                {
                    bool reach = false;
                    for (int i = 0; i <= n; i++)
                    {
                        reach |= current[i];
                        if (reach)
                        {
                            next[i] = true;
                            any = true;
                        }
                    }

                    break;
                }
        }

        return any;
    }

    private static bool InClass(in PatternToken token, char c)
    {
        bool inside = false;
        foreach (var range in token.Ranges!)
        {
            if (c >= range.Low && c <= range.High)
            {
                inside = true;
                break;
            }
        }

        return inside != token.Negated;
    }
}
