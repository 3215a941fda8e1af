namespace SegServe.Tools.UnitTests;

/// <summary>Locates the repository, the shared fixtures beside it, and the cached npm package the import script fills.</summary>
internal static class TestPaths
{
    public const string SelfiePackageVersion = "0.1.1675465747";

    /// <summary>The repository root: the first ancestor of the test's base directory that holds SegServe.slnx.</summary>
    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    /// <summary>
    /// <c>shared/fixtures/selfie-oracle</c> from the first ancestor that has a <c>shared/fixtures</c> folder
    /// (CI lays <c>shared</c> beside the clone), or null when there is none.
    /// </summary>
    public static string? SelfieOracleDirectory { get; } = FindSharedFixture("selfie-oracle");

    /// <summary>Where scripts/import-selfie-models.sh extracts the npm package (gitignored).</summary>
    public static string SelfiePackageDirectory => Path.Combine(RepositoryRoot, "artifacts", "selfie-package", "package");

    public static string CommittedModel(string modelName) => Path.Combine(RepositoryRoot, "models", modelName, "model.onnx");

    private static string FindRepositoryRoot()
    {
        for (DirectoryInfo? directory = new(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "SegServe.slnx")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No SegServe.slnx above {AppContext.BaseDirectory}.");
    }

    private static string? FindSharedFixture(string fixtureName)
    {
        for (DirectoryInfo? directory = new(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            string fixtures = Path.Combine(directory.FullName, "shared", "fixtures");
            if (Directory.Exists(fixtures))
            {
                string fixture = Path.Combine(fixtures, fixtureName);
                return Directory.Exists(fixture) ? fixture : null;
            }
        }

        return null;
    }
}
