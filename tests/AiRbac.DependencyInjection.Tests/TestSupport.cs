using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace AiRbac.DependencyInjection.Tests;

/// <summary>Policies and helpers shared by the tests.</summary>
internal static class Policies
{
    // Both grant model:query on model:gpt; A grants tool:a_*, B grants tool:b_*.
    public const string A = """
        version: 1
        roles:
          analyst:
            allow:
              - model:query on model:gpt
              - tool:invoke on tool:a_*
            max_sensitivity: confidential
        """;

    public const string B = """
        version: 1
        roles:
          analyst:
            allow:
              - model:query on model:gpt
              - tool:invoke on tool:b_*
            max_sensitivity: confidential
        """;

    // Two errors: an undeclared inherited role (line 5) and an unknown key (line 7).
    public const string Invalid = """
        version: 1
        roles:
          analyst:
            inherits:
              - nobody
            allow: [model:query on model:gpt]
            colour: blue
        """;

    public static string Hash(string yaml) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(yaml)));

    public static Subject Alice { get; } = Subject.WithRoles("alice", SubjectKind.User, "analyst");

    /// <summary>Polls until the condition holds or 10 s pass; returns whether it held.</summary>
    public static bool WaitUntil(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            if (condition())
            {
                return true;
            }

            Thread.Sleep(10);
        }

        return condition();
    }

    /// <summary>Replaces a file atomically, as deploy tools and many editors do: write a sibling, rename it over.</summary>
    public static void ReplaceFile(string path, string text)
    {
        string temporary = path + ".tmp";
        File.WriteAllText(temporary, text);
        File.Move(temporary, path, overwrite: true);
    }

    public static List<JsonElement> ReadRecords(string path)
    {
        var records = new List<JsonElement>();
        foreach (string line in File.ReadLines(path))
        {
            using var document = JsonDocument.Parse(line);
            records.Add(document.RootElement.Clone());
        }

        return records;
    }
}

/// <summary>A temporary directory removed at the end of the test.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "airbac-di-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A watcher or writer still closing; the OS cleans temp.
        }
    }
}
