namespace AiRbac.Core.Tests;

/// <summary>The repository's root folder (the one holding AiRbac.sln), for tests that read the repository's files.</summary>
internal static class RepositoryRoot
{
    private static readonly Lazy<string> Root = new(Find);

    /// <summary>The root folder.</summary>
    public static string Path => Root.Value;

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "AiRbac.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("the repository root (AiRbac.sln) was not found above " + AppContext.BaseDirectory);
    }
}
