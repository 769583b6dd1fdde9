import AlpcCommands
import ArgumentParser

AlpcCommand.main()
