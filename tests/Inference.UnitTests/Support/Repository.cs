namespace SegServe.Inference.UnitTests.Support;

/// <summary>Files of this checkout (the committed default models), found from the test binaries.</summary>
internal static class Repository
{
    private static readonly Lazy<string> s_root = new(static () =>
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "SegServe.slnx")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("The repository root (SegServe.slnx) is not above the test binaries.");
    });

    public static string PathOf(string relative) => Path.Combine(s_root.Value, relative);
}
