import Foundation

// Built two ways (ops/fuzz/run.sh):
// - with `-sanitize=fuzzer,address` and `-D VIGIL_LIBFUZZER`: main hands over to libFuzzer's
//   driver (LLVMFuzzerRunDriver; SwiftPM links an executable's main under its own name, so
//   libFuzzer's main is not used), which runs the target named by VIGIL_FUZZ_TARGET;
// - as a plain executable (the package's normal build): `vigil-fuzz TARGET PATH...` runs
//   each file (or every file of a folder) once through the target, so an input a fuzzer
//   found reproduces, under a debugger if need be, without the fuzzing build;
//   `vigil-fuzz seeds FOLDER` writes each target's starting inputs (FuzzSeeds) to
//   FOLDER/TARGET/.

#if VIGIL_LIBFUZZER
let fuzzTarget: FuzzTarget = {
    let name = ProcessInfo.processInfo.environment["VIGIL_FUZZ_TARGET"] ?? ""
    guard let target = FuzzTarget(rawValue: name) else {
        fatalError("set VIGIL_FUZZ_TARGET to one of: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", "))")
    }
    return target
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    fuzzTarget.run(UnsafeBufferPointer(start: data, count: data == nil ? 0 : size))
    return 0
}

@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(_ argc: UnsafeMutablePointer<CInt>,
                     _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
                     _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

@main
enum VigilFuzz {
    static func main() {
        _ = fuzzTarget  // a wrong VIGIL_FUZZ_TARGET stops here, before libFuzzer starts
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(runFuzzerDriver(&argc, &argv, { data, size in fuzzOne(data, size) }))
    }
}
#else
@main
enum VigilFuzz {
    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        if arguments.first == "seeds", arguments.count == 2 {
            do {
                let counts = try FuzzSeeds.write(to: arguments[1])
                print(counts.map { "\($0.key): \($0.value)" }.sorted().joined(separator: ", "))
            } catch {
                FileHandle.standardError.write(Data("vigil-fuzz seeds: \(error)\n".utf8))
                exit(1)
            }
            return
        }
        guard let name = arguments.first, let target = FuzzTarget(rawValue: name), arguments.count > 1 else {
            let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: "|")
            FileHandle.standardError.write(Data("usage: vigil-fuzz \(names) FILE|FOLDER...\n       vigil-fuzz seeds FOLDER\n".utf8))
            exit(64)
        }
        var files: [String] = []
        for path in arguments.dropFirst() {
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
                FileHandle.standardError.write(Data("vigil-fuzz: no such file: \(path)\n".utf8))
                exit(66)
            }
            if isFolder.boolValue {
                let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
                files += names.sorted().map { path + "/" + $0 }
            } else {
                files.append(path)
            }
        }
        for file in files {
            guard let data = FileManager.default.contents(atPath: file) else { continue }
            Array(data).withUnsafeBufferPointer { target.run($0) }
        }
        print("vigil-fuzz \(name): \(files.count) input(s), no failure")
    }
}
#endif
