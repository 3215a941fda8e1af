namespace SegServe.Api.FunctionalTests.Infrastructure;

/// <summary>
/// The read-only <c>shared/</c> folder that CI places beside the clone (real models, format fixtures, photos, datasets).
/// A user's fresh clone does not have it: tests that need it skip with a message saying so.
/// </summary>
public static class SharedData
{
    private static readonly Lazy<string?> s_root = new(Locate);

    /// <summary>Absolute path of <c>shared/</c>, or null when it is not beside this checkout.</summary>
    public static string? Root => s_root.Value;

    /// <summary>The path of a file under <c>shared/</c>; skips the test when <c>shared/</c> is absent.</summary>
    public static string PathOf(string relative)
    {
        Require();
        string root = Root!;
        string path = Path.Combine(root, relative);
        if (!File.Exists(path) && !Directory.Exists(path))
        {
            Assert.Fail($"shared/{relative} is missing from {root}.");
        }

        return path;
    }

    /// <summary>Skips the test when <c>shared/</c> is absent.</summary>
    public static void Require()
    {
        if (Root is null)
        {
            Assert.Skip("../shared (real models, fixtures, photos) is not beside this checkout; CI provides it. Skipping.");
        }
    }

    private static string? Locate()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null)
        {
            string candidate = Path.Combine(directory.FullName, "shared");
            if (Directory.Exists(Path.Combine(candidate, "fixtures")) && Directory.Exists(Path.Combine(candidate, "data")))
            {
                return candidate;
            }

            directory = directory.Parent;
        }

        return null;
    }
}
