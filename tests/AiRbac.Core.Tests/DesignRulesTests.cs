using System.Xml.Linq;

namespace AiRbac.Core.Tests;

/// <summary>The rings of docs/design.md, "Rings": each project of src/ references only the rings inside its own.</summary>
public class DesignRulesTests
{
    // What each project may reference (docs/design.md, "Rings"); a project not listed here fails the test until it is placed.
    private static readonly Dictionary<string, string[]> Allowed = new(StringComparer.Ordinal)
    {
        ["AiRbac.Core"] = [],
        ["AiRbac.Yaml"] = ["AiRbac.Core"],
        ["AiRbac.DependencyInjection"] = ["AiRbac.Core", "AiRbac.Yaml"],
        ["AiRbac.Review"] = ["AiRbac.Core", "AiRbac.Yaml"],
        ["AiRbac.AspNetCore"] = ["AiRbac.Core"],
        ["AiRbac.Extensions.AI"] = ["AiRbac.Core"],
        ["AiRbac.ModelContextProtocol"] = ["AiRbac.Core"],
        ["AiRbac.Cli"] = ["AiRbac.Core", "AiRbac.Yaml", "AiRbac.Review"],
    };

    [Fact]
    public void ProjectReferences_StayInsideTheirRing_AndTheCoreTakesNoPackages()
    {
        string src = Path.Combine(RepositoryRoot.Path, "src");
        var projects = Directory.EnumerateFiles(src, "*.csproj", SearchOption.AllDirectories).ToList();
        projects.Should().HaveCount(Allowed.Count, "every project of src/ is placed in a ring");

        foreach (string project in projects)
        {
            string name = Path.GetFileNameWithoutExtension(project);
            Allowed.Should().ContainKey(name);
            var document = XDocument.Load(project);
            var references = document.Descendants("ProjectReference")
                .Select(r => Path.GetFileNameWithoutExtension(r.Attribute("Include")!.Value.Replace('\\', '/')))
                .ToList();
            references.Should().BeSubsetOf(Allowed[name], $"{name} may reference only the rings inside its own");
            if (name == "AiRbac.Core")
            {
                // Build-time analyzers only (PrivateAssets="all"): the core ships with the BCL alone.
                document.Descendants("PackageReference").Should().OnlyContain(p => (string?)p.Attribute("PrivateAssets") == "all");
            }
        }
    }
}
