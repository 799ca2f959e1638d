namespace AiRbac.Core.Tests;

/// <summary>The request-path name table: every key found with its id, every other name missed, whatever hash it settles on.</summary>
public sealed class NameTableTests
{
    public static TheoryData<string, int> Shapes => new()
    {
        { "team-{0:D5}", 20_000 },  // same length and ends: clusters in the cheap hash
        { "x:{0}", 30_000 },        // the hostile catalog of HostilePolicyCompileTests
        { "tool:invoke-{0}", 40 },  // few, well spread
        { "{0}", 1 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Find_GivesEachKeysIdAndMissesEverythingElse(string format, int count)
    {
        var names = Enumerable.Range(0, count).Select(i => string.Format(System.Globalization.CultureInfo.InvariantCulture, format, i)).ToArray();
        var table = new NameTable(names.Select((name, i) => KeyValuePair.Create(name, i)));

        table.Count.Should().Be(count);
        for (int i = 0; i < count; i++)
        {
            // A copy, so that a match is found by content, not by reference.
            table.Find(new string(names[i].AsSpan())).Should().Be(i);
            table.Find(names[i] + "x").Should().Be(-1);
            table.Find(names[i][..^1]).Should().Be(names.Contains(names[i][..^1]) ? Array.IndexOf(names, names[i][..^1]) : -1);
        }

        table.Find(string.Empty).Should().Be(-1);
    }

    [Fact]
    public void Find_KeepsTheFirstIdOfADuplicateName()
    {
        var table = new NameTable([KeyValuePair.Create("a", 1), KeyValuePair.Create("a", 2), KeyValuePair.Create("b", 3)]);

        table.Count.Should().Be(2);
        table.Find("a").Should().Be(1);
        table.Find("b").Should().Be(3);
    }

    [Fact]
    public void TextEquals_compares_every_character_at_every_length()
    {
        // The inline comparison loads overlapping words from both ends: a difference anywhere, at any length, must show.
        var random = new Random(5);
        for (int length = 0; length <= 40; length++)
        {
            var text = new string([.. Enumerable.Range(0, length).Select(_ => (char)random.Next('a', 'z' + 1))]);
            NameTable.TextEquals(text, new string(text.AsSpan())).Should().BeTrue("length {0}", length);
            for (int at = 0; at < length; at++)
            {
                var other = text.ToCharArray();
                other[at] = other[at] == 'a' ? '\u0100' : 'a';
                NameTable.TextEquals(text, new string(other)).Should().BeFalse("length {0}, differing at {1}", length, at);
            }
        }
    }
}
